"""Voice activity on 20 ms telephone frames, and speech segments from a stream of them.

webrtcvad alone takes steady line noise for speech (white noise at -30 dBFS is "speech" in 90-100% of
frames in modes 0-2, 40% in mode 3), so a frame is voiced only when webrtcvad says so and it also stands
GATE_DB over the line's noise floor: the quietest frame of the last FLOOR_WINDOW_S, which speech never
holds up for long because of the pauses between syllables (a steady tone longer than that window becomes
the floor, as a hum should). The decision is then smoothed: speech starts after ONSET_FRAMES voiced frames
in a row (a click is not speech) and lasts HANGOVER_FRAMES past the last voiced one (the gap between two
words is not silence). Frames are 20 ms of telephone-band audio (8 kHz int16, 160 samples).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

import numpy as np
import webrtcvad

RATE = 8000
FRAME = 160
FRAME_S = FRAME / RATE
DEFAULT_MODE = 2  # webrtcvad aggressiveness 0-3; the gate below does the noise rejection
ONSET_FRAMES = 2
HANGOVER_FRAMES = 5  # 100 ms
GATE_DB = 6.0
FLOOR_WINDOW_S = 1.5
MIN_LEVEL_DB = -55.0  # dBFS: quieter frames are silence whatever the floor


def level_db(frame: np.ndarray) -> float:
    """The frame's mean power in dB relative to a full-scale square wave (one dot product: this runs for every
    20 ms frame of every call being listened to, on the event loop)."""
    samples = np.asarray(frame, dtype=np.float64)
    return 10 * math.log10(float(samples @ samples) / (len(samples) * 32768.0 ** 2) + 1e-12)


class NoiseFloor:
    """The line's noise level in dBFS: the quietest frame of the last FLOOR_WINDOW_S.

    A sliding minimum over a deque of (frame index, level) kept increasing in level, so each update costs O(1)
    on average instead of a scan of the whole window."""

    def __init__(self, window_s: float = FLOOR_WINDOW_S) -> None:
        self.window = round(window_s / FRAME_S)
        self._frames = 0
        self._rising: deque[tuple[int, float]] = deque()  # the window's candidates for its minimum, oldest first

    def update(self, level: float) -> float:
        """The floor as it stood before this frame's level, which is then taken in."""
        rising = self._rising
        floor = rising[0][1] if rising else level
        while rising and rising[-1][1] >= level:
            rising.pop()
        rising.append((self._frames, level))
        self._frames += 1
        if rising[0][0] <= self._frames - 1 - self.window:
            rising.popleft()
        return floor


class Vad:
    def __init__(self, mode: int = DEFAULT_MODE, *, onset_frames: int = ONSET_FRAMES,
                 hangover_frames: int = HANGOVER_FRAMES, gate_db: float = GATE_DB) -> None:
        self.onset_frames = onset_frames
        self.hangover_frames = hangover_frames
        self.gate_db = gate_db
        self._vad = webrtcvad.Vad(mode)
        self._floor = NoiseFloor()
        self._voiced_run = 0
        self.quiet_frames = 0  # unvoiced frames since the last voiced one
        self.speaking = False

    def is_voiced(self, frame: np.ndarray, level: float | None = None) -> bool:
        """The frame on its own, unsmoothed (it still moves the noise floor); `level`: its `level_db`, when the
        caller has it already."""
        level = level_db(frame) if level is None else level
        floor = self._floor.update(level)
        if level < MIN_LEVEL_DB or level < floor + self.gate_db:
            return False
        return self._vad.is_speech(np.ascontiguousarray(frame, dtype=np.int16).tobytes(), RATE)

    def feed(self, frame: np.ndarray, level: float | None = None) -> bool:
        """Whether speech is going on, smoothed: onset confirmation and hangover."""
        if self.is_voiced(frame, level):
            self._voiced_run += 1
            self.quiet_frames = 0
            self.speaking = self.speaking or self._voiced_run >= self.onset_frames
        else:
            self._voiced_run = 0
            self.quiet_frames += 1
            self.speaking = self.speaking and self.quiet_frames <= self.hangover_frames
        return self.speaking


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float


class SpeechSegmenter:
    """Speech segments from a frame stream, with the onset delay and the hangover taken back out of their
    times, so a segment spans the voiced frames themselves."""

    def __init__(self, vad: Vad | None = None) -> None:
        self.vad = vad or Vad()
        self._frames = 0
        self._start: int | None = None

    def feed(self, frame: np.ndarray) -> Segment | None:
        """The segment that has just ended, if any."""
        speaking, index = self.vad.feed(frame), self._frames
        self._frames += 1
        if speaking and self._start is None:
            self._start = index - self.vad.onset_frames + 1
        elif not speaking and self._start is not None:
            return self._close(index - self.vad.hangover_frames)
        return None

    def flush(self) -> Segment | None:
        """At the end of the stream: the segment still open, if any."""
        return None if self._start is None else self._close(self._frames - self.vad.quiet_frames)

    def _close(self, end: int) -> Segment:
        segment = Segment(self._start * FRAME_S, end * FRAME_S)
        self._start = None
        return segment


async def speech_segments(frames: AsyncIterable[np.ndarray],
                          segmenter: SpeechSegmenter | None = None) -> AsyncIterator[Segment]:
    """Segments as a call's frames arrive (e.g. from a media session's listener queue)."""
    segmenter = segmenter or SpeechSegmenter()
    async for frame in frames:
        if (segment := segmenter.feed(frame)) is not None:
            yield segment
    if (segment := segmenter.flush()) is not None:
        yield segment
