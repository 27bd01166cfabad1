"""WAV files as 8 kHz 16-bit mono PCM, the telephone rate every prompt and recording uses.

Prompts may be any PCM WAV (rate, width, channels): they are mixed down to mono and resampled by linear
interpolation, which is adequate for narrow-band speech going out as G.711.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 8000
_DTYPES = {1: np.uint8, 2: np.int16, 4: np.int32}


def read_pcm(path: Path | str, rate: int = RATE) -> np.ndarray:
    """The file's audio as int16 samples at `rate`, mono."""
    with wave.open(str(path), "rb") as source:
        width, channels, source_rate = source.getsampwidth(), source.getnchannels(), source.getframerate()
        if width not in _DTYPES:
            raise ValueError(f"{path}: {8 * width}-bit samples are not supported")
        raw = np.frombuffer(source.readframes(source.getnframes()), dtype=_DTYPES[width])
    samples = raw.astype(np.float64)
    if width == 1:
        samples = (samples - 128.0) * 256.0
    elif width == 4:
        samples /= 65536.0
    samples = samples.reshape(-1, channels).mean(axis=1)
    if source_rate != rate and len(samples):
        count = int(round(len(samples) * rate / source_rate))
        samples = np.interp(np.arange(count) * source_rate / rate, np.arange(len(samples)), samples)
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16)


def write_pcm(path: Path | str, pcm: np.ndarray, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as target:
        target.setnchannels(1 if pcm.ndim == 1 else pcm.shape[1])
        target.setsampwidth(2)
        target.setframerate(rate)
        target.writeframes(np.ascontiguousarray(pcm, dtype=np.int16).tobytes())


def tone(frequency: float, seconds: float, amplitude: int = 8000, rate: int = RATE) -> np.ndarray:
    """A sine tone (an answering machine's beep, a test signal)."""
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
