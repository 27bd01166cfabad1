"""Call recordings: storage, retention, transcription jobs and transcripts."""
