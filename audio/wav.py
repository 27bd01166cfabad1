"""WAV files as 8 kHz 16-bit mono PCM, the telephone rate every prompt and recording uses.

Prompts may be any PCM WAV (rate, width, channels): they are mixed down to mono and resampled by linear
interpolation, which is adequate for narrow-band speech going out as G.711.
"""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np

RATE = 8000
_DTYPES = {1: np.uint8, 2: np.int16, 4: np.int32}
_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")  # RIFF, WAVE, a 16-byte PCM fmt chunk, then the data chunk
HEADER_BYTES = _HEADER.size
UNKNOWN_SIZE = 0xFFFFFFFF  # the data size of a header written before the audio it heads (a stream)


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


def header(channels: int, rate: int, data_bytes: int = UNKNOWN_SIZE, width: int = 2) -> bytes:
    """The canonical 44-byte header of a PCM WAV whose audio is `data_bytes` long."""
    riff = UNKNOWN_SIZE if data_bytes == UNKNOWN_SIZE else HEADER_BYTES - 8 + data_bytes
    return _HEADER.pack(b"RIFF", riff, b"WAVE", b"fmt ", 16, 1, channels, rate, rate * channels * width,
                        channels * width, 8 * width, b"data", data_bytes)


def resized(head: bytes, data_bytes: int) -> bytes | None:
    """A canonical header (`header`) with its sizes set to `data_bytes` of audio; None for any other header. A
    WAV written as a stream states no size (its header went out first); its reader knows it."""
    if len(head) < HEADER_BYTES:
        return None
    riff, _, wave_, fmt, fmt_size, kind, channels, rate, _, _, bits, data, _ = _HEADER.unpack(
        head[:HEADER_BYTES])
    if (riff, wave_, fmt, fmt_size, kind, data) != (b"RIFF", b"WAVE", b"fmt ", 16, 1, b"data") or bits % 8:
        return None
    return header(channels, rate, data_bytes, bits // 8)


def tone(frequency: float, seconds: float, amplitude: int = 8000, rate: int = RATE) -> np.ndarray:
    """A sine tone (an answering machine's beep, a test signal)."""
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
