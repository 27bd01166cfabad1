"""The ground floor for sound: G.711 (µ-law/A-law) tables and 8 kHz 16-bit WAV files. Both the dialer
(RTP media, recordings) and speech (prompts, transcription) stand on it; it imports neither."""

from audio import g711
from audio.wav import RATE, read_pcm, tone, write_pcm

__all__ = ["RATE", "g711", "read_pcm", "tone", "write_pcm"]
