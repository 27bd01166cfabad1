"""Asserting on audio: does a recording contain a known signal (after G.711, delay and level changes)?"""

from __future__ import annotations

import wave
from typing import BinaryIO
from pathlib import Path

import numpy as np


def read_stereo(path: Path | BinaryIO) -> tuple[np.ndarray, np.ndarray, int]:
    with wave.open(str(path) if isinstance(path, (str, Path)) else path, "rb") as source:
        assert source.getnchannels() == 2 and source.getsampwidth() == 2
        frames = np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16).reshape(-1, 2)
        return frames[:, 0].astype(np.float64), frames[:, 1].astype(np.float64), source.getframerate()


def similarity(recording: np.ndarray, reference: np.ndarray) -> float:
    """The best normalised cross-correlation of `reference` against any stretch of `recording` (0..1)."""
    recording = np.asarray(recording, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if len(recording) < len(reference) or not reference.any():
        return 0.0
    size = 1 << int(np.ceil(np.log2(len(recording) + len(reference))))
    correlation = np.fft.irfft(np.fft.rfft(recording, size) * np.conj(np.fft.rfft(reference, size)), size)
    lags = len(recording) - len(reference) + 1
    energy = np.concatenate(([0.0], np.cumsum(recording ** 2)))
    window = np.sqrt(np.maximum(energy[len(reference):len(reference) + lags] - energy[:lags], 1e-9))
    return float(np.max(correlation[:lags] / (window * np.linalg.norm(reference))))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(samples, dtype=np.float64) ** 2))) if len(samples) else 0.0


def contains_part_of(recording: np.ndarray, reference: np.ndarray, piece: int = 2000) -> float:
    """The best similarity of any voiced `piece`-sample stretch of `reference` within `recording`: for a
    looped source heard from an unknown point on, where no fixed stretch is sure to be there."""
    starts = [s for s in range(0, len(reference) - piece + 1, piece // 2) if rms(reference[s:s + piece]) > 300]
    return max((similarity(recording, reference[s:s + piece]) for s in starts), default=0.0)
