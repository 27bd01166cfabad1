"""In-band DTMF (ITU-T Q.23/Q.24): digits heard as tone pairs in the audio, for peers and carriers that
do not send RFC 4733 events (or transcode them into tones on the way).

Each 20 ms frame is projected onto the eight DTMF frequencies (one matrix product). A frame holds a
digit when one low and one high tone carry nearly all of its energy, each clearly above the other tones
of its group, with the two within the allowed twist; a digit is reported once, after two such frames in
a row (40 ms, Q.24's minimum), and again only after a gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOW = (697.0, 770.0, 852.0, 941.0)
HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
RATE = 8000
MIN_RMS = 200.0  # about -44 dBm0: quieter frames are not tones
TONE_SHARE = 0.7  # of the frame's energy in the two tones
GROUP_MARGIN = 4.0  # the tone over the next strongest of its group (6 dB)
MAX_TWIST = 6.3  # 8 dB between the two tones, either way
FRAMES_TO_CONFIRM = 2


def _basis(size: int) -> np.ndarray:
    n = np.arange(size)
    return np.exp(-2j * np.pi * np.outer(np.array(LOW + HIGH), n) / RATE)


@dataclass
class InbandDtmfDetector:
    frame_size: int = 160

    def __post_init__(self) -> None:
        self._basis = _basis(self.frame_size)
        self._candidate: str | None = None
        self._count = 0
        self._reported: str | None = None

    def classify(self, frame: np.ndarray) -> str | None:
        """The digit one frame holds, if any."""
        samples = np.asarray(frame, dtype=np.float64)
        energy = float(samples @ samples)
        if energy < MIN_RMS ** 2 * len(samples):
            return None
        power = np.abs(self._basis[:, :len(samples)] @ samples) ** 2 / (energy * len(samples) / 2)
        low, high = power[:4], power[4:]
        row, column = int(np.argmax(low)), int(np.argmax(high))
        if low[row] + high[column] < TONE_SHARE:
            return None
        if low[row] < GROUP_MARGIN * np.partition(low, -2)[-2] or high[column] < GROUP_MARGIN * np.partition(high, -2)[-2]:
            return None
        if not 1 / MAX_TWIST <= low[row] / high[column] <= MAX_TWIST:
            return None
        return KEYS[row][column]

    def feed(self, frame: np.ndarray) -> str | None:
        """A digit when it has just been confirmed, else None."""
        digit = self.classify(frame)
        if digit is None:
            self._candidate, self._count, self._reported = None, 0, None
            return None
        self._count = self._count + 1 if digit == self._candidate else 1
        self._candidate = digit
        if self._count >= FRAMES_TO_CONFIRM and self._reported != digit:
            self._reported = digit
            return digit
        return None


def tones(digits: str, *, tone_ms: int = 100, gap_ms: int = 80, amplitude: float = 6000.0) -> np.ndarray:
    """Digits as DTMF tones (to send in-band, and to test the detector)."""
    parts = []
    n = np.arange(RATE * tone_ms // 1000) / RATE
    for digit in digits:
        row = next(index for index, keys in enumerate(KEYS) if digit.upper() in keys)
        column = KEYS[row].index(digit.upper())
        parts.append(amplitude * (np.sin(2 * np.pi * LOW[row] * n) + np.sin(2 * np.pi * HIGH[column] * n)) / 2)
        parts.append(np.zeros(RATE * gap_ms // 1000))
    return np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)
