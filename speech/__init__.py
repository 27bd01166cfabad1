"""Speech on CPU, offline: prompts (TTS), voice activity, answering-machine detection, recognition and
transcription. Works on 8 kHz int16 numpy frames; knows nothing of SIP or RTP."""
