"""Stereo call recording, written as it happens: left the debtor, right what the debtor hears.

Each packet's audio is placed on the recording's timeline by its RTP timestamp, anchored to the wall
clock when its stream starts (or when timestamp and clock disagree by more than `REANCHOR_S`), so jitter
does not tear a talkspurt apart and a pause stays a pause; what is missing on one side (silence
suppression, loss) is silence, and the two channels stay in step. Every flush (twice a second) writes what
is due, holding back a little for late packets, and hands it to the OS: a crash of the process loses at most
the last half second.

Given a keyring, the recording is sealed as it is written (`<name>.wav.sealed`, crypto.sealed's stream): the
WAV header (its sizes unknown yet) and each flush go out as sealed records, so no sample lies on disk in clear,
even mid-call or after a crash, and the reader (recordings.storage.open_recording) derives the sizes. Without
one it is a plain WAV whose header is patched at each flush, valid up to the last flush as it stands.
"""

from __future__ import annotations

import time
import wave
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np

from audio.g711 import decode
from audio.wav import RATE, header
from crypto import Keyring, SealedWriter
from crypto.sealed import sealed_path

FLUSH_S = 0.5
HOLD_BACK_S = 0.2
REANCHOR_S = 1.0

class _Channel:
    """One side's audio as (position, G.711 payload, law) chunks on the recording's timeline, decoded when
    flushed: a talkspurt's packets lie end to end, so a flush decodes it with one table lookup instead of one
    per packet (decoding each packet as it came was a third of a 200-call relay's CPU)."""

    def __init__(self) -> None:
        self.chunks: deque[tuple[int, bytes, str]] = deque()
        self.cursor = 0  # where the audio placed so far ends
        self._anchor: tuple[int, int, int] | None = None  # (ssrc, rtp timestamp, position)

    def add(self, payload: bytes, law: str, timestamp: int, ssrc: int, began: int, written: int,
            reanchor: int) -> None:
        """Place a packet's audio (one byte a sample); `began` is where the wall clock says it began."""
        position = None
        if self._anchor is not None and self._anchor[0] == ssrc:
            delta = (timestamp - self._anchor[1]) & 0xFFFFFFFF
            position = self._anchor[2] + (delta - (1 << 32) if delta >= 1 << 31 else delta)
        if position is None or abs(position - began) > reanchor:
            position = max(began, min(self.cursor, began + reanchor))
            self._anchor = (ssrc, timestamp, position)
        position = max(position, written)  # too late for its place: right after what is written
        self.chunks.append((position, payload, law))
        self.cursor = max(self.cursor, position + len(payload))

    def take(self, start: int, count: int) -> np.ndarray:
        out = np.zeros(count, dtype=np.int16)
        end = start + count
        run: list[bytes] = []  # payloads lying end to end in one law, placed together
        run_at, run_end, run_law = start, start, ""
        while self.chunks and self.chunks[0][0] < end:
            position, payload, law = self.chunks.popleft()
            if position + len(payload) > end:  # runs past this flush: keep the rest for the next
                self.chunks.appendleft((end, payload[end - position:], law))
                payload = payload[:end - position]
            if position < start:
                payload, position = payload[start - position:], start
            if run and (position != run_end or law != run_law):
                _place(out, run_at - start, run, run_law)
                run = []
            if not run:
                run_at, run_law = position, law
            run.append(payload)
            run_end = position + len(payload)
        if run:
            _place(out, run_at - start, run, run_law)
        return out


def _place(out: np.ndarray, at: int, run: list[bytes], law: str) -> None:
    pcm = decode(b"".join(run), law)
    out[at:at + len(pcm)] = pcm


class StereoRecorder:
    def __init__(self, path: Path | str, *, rate: int = RATE, flush_s: float = FLUSH_S,
                 clock: Callable[[], float] = time.monotonic, keyring: Keyring | None = None) -> None:
        """`keyring`: seal as written, at `path`'s sealed name (`path` is then where the file would be plain)."""
        self.keyring = keyring
        self.path = Path(path) if keyring is None else sealed_path(Path(path))
        self.rate, self.flush_s, self.clock = rate, flush_s, clock
        self._sealed: SealedWriter | None = None
        self.started: float | None = None
        self.written = 0  # frames (sample pairs) in the file
        self._left, self._right = _Channel(), _Channel()
        self._last_flush = 0.0
        self.closed = False

    def _open(self, first: int) -> None:
        if self.keyring is not None:
            self._sealed = SealedWriter(self.path, self.keyring)
            self._sealed.append(header(2, self.rate))  # the header now: a valid (empty) WAV from the first moment
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "wb")  # noqa: SIM115 - kept open for the whole call
            self._wave = wave.open(self._file, "wb")
            self._wave.setnchannels(2)
            self._wave.setsampwidth(2)
            self._wave.setframerate(self.rate)
            self._wave.writeframes(b"")  # the header now, as above
            self._file.flush()
        self._last_flush = self.clock()
        self.started = self._last_flush - first / self.rate  # the first packet's audio began a packet ago

    def start(self) -> None:
        """Begin the recording now (silence until audio comes), not at the first packet: a call whose audio
        bypasses this process (anchored in rtpengine, bridged at once) still has its recording from here."""
        if self.started is None and not self.closed:
            self._open(0)

    def left(self, payload: bytes, law: str, timestamp: int, ssrc: int) -> None:
        """A packet the leg received: its G.711 payload and law ("ulaw" or "alaw")."""
        self._add(self._left, payload, law, timestamp, ssrc)

    def right(self, payload: bytes, law: str, timestamp: int, ssrc: int) -> None:
        """A packet the leg sent."""
        self._add(self._right, payload, law, timestamp, ssrc)

    def _add(self, channel: _Channel, payload: bytes, law: str, timestamp: int, ssrc: int) -> None:
        if self.closed:
            return
        if self.started is None:
            self._open(len(payload))
        assert self.started is not None
        began = int(round((self.clock() - self.started) * self.rate)) - len(payload)  # a packet: audio just past
        channel.add(payload, law, timestamp, ssrc, began, self.written, int(REANCHOR_S * self.rate))

    @property
    def seconds(self) -> float:
        return self.written / self.rate

    def tick(self, now: float) -> bool:
        """The media clock's call: flush when due; False once closed."""
        if self.closed:
            return False
        if self.started is not None and now - self._last_flush >= self.flush_s:
            self.flush(hold_back=True)
        return True

    def flush(self, hold_back: bool = False) -> None:
        if self.started is None or self.closed:
            return
        now = self.clock()
        self._last_flush = now
        due = int(round((now - self.started - (HOLD_BACK_S if hold_back else 0.0)) * self.rate))
        count = due - self.written
        if count <= 0:
            return
        frames = np.empty((count, 2), dtype=np.int16)
        frames[:, 0] = self._left.take(self.written, count)
        frames[:, 1] = self._right.take(self.written, count)
        if self._sealed is not None:
            self._sealed.append(frames.tobytes())
        else:
            self._wave.writeframes(frames.tobytes())  # patches the header's sizes too
            self._file.flush()
        self.written += count

    def close(self) -> None:
        if self.closed:
            return
        self.flush()
        self.closed = True
        if self._sealed is not None:
            self._sealed.close()
        elif self.started is not None:
            self._wave.close()
            self._file.close()
