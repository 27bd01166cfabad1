"""The media of one call leg: prompts out, digits both ways, the far end's audio as frames, recording.

A session sits on an `RtpLeg`. What it sends (prompts, silence, RFC 4733 digits) is paced by the shared
`MediaClock`, one packet per 20 ms, and only while the leg is not bridged (then the other leg's audio is
what goes out). What it receives is decoded only for those who asked: a listener's frame queue, a
recorder channel, the in-band DTMF detector. Digits arrive from RFC 4733 packets here, as tones in the
audio when in-band detection is on, or from SIP INFO through `digit_received`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from dialer.media.clock import MediaClock
from dialer.media.dtmf import InbandDtmfDetector
from audio.g711 import decode, encode
from dialer.media.recorder import StereoRecorder
from dialer.media.relay import FRAME, LAW, RtpLeg
from dialer.media.rtp import DigitReceiver, RtpError, RtpPacket, digit_packets

LISTEN_QUEUE_FRAMES = 250  # 5 s: a listener further behind than this loses the oldest frames


@dataclass(frozen=True)
class AudioFrame:
    """20 ms of the far end's audio, 8 kHz int16, with the RTP timestamp it came under."""

    pcm: np.ndarray
    timestamp: int


@dataclass
class _Prompt:
    pcm: np.ndarray
    done: asyncio.Future[bool]  # True when played to the end, False when stopped
    position: int = 0


class MediaSession:
    def __init__(self, leg: RtpLeg, clock: MediaClock) -> None:
        self.leg = leg
        self.clock = clock
        self.digits: asyncio.Queue[str] = asyncio.Queue()
        self._digit_receiver = DigitReceiver()
        self._prompts: deque[_Prompt] = deque()
        self._outgoing_events: deque[RtpPacket] = deque()
        self._pending_digits: deque[str] = deque()
        self._listeners: list[asyncio.Queue[AudioFrame | None]] = []
        self._talkspurt = True
        self.recorder: StereoRecorder | None = None
        self.inband: InbandDtmfDetector | None = None
        leg.listeners.append(self._received)

    def detect_inband_digits(self, enabled: bool = True) -> None:
        """Listen for DTMF tones in the audio too (peers without RFC 4733; IVR prompts that take digits)."""
        self.inband = InbandDtmfDetector() if enabled else None

    # Outgoing --------------------------------------------------------------------------------------------------
    def play(self, pcm: np.ndarray) -> asyncio.Future[bool]:
        """Queue a prompt (8 kHz int16); the future says whether it played to the end."""
        prompt = _Prompt(np.asarray(pcm, dtype=np.int16), asyncio.get_running_loop().create_future())
        self._prompts.append(prompt)
        self.clock.add(self)
        return prompt.done

    def stop_playback(self) -> None:
        """Barge-in: drop every queued prompt."""
        while self._prompts:
            prompt = self._prompts.popleft()
            if not prompt.done.done():
                prompt.done.set_result(False)

    def send_digits(self, digits: str) -> None:
        self._pending_digits.extend(digits)
        self.clock.add(self)

    @property
    def sending(self) -> bool:
        return bool(self._prompts or self._outgoing_events or self._pending_digits)

    def tick(self, now: float) -> bool:
        if not self.sending:
            self._talkspurt = True
            return False
        if self.leg.bridged:
            return True  # the bridge is talking; keep our queue for when it ends
        if not self._outgoing_events and self._pending_digits:
            self._outgoing_events.extend(digit_packets(
                self._pending_digits.popleft(), payload_type=self.leg.event_payload_type, ssrc=self.leg.ssrc,
                first_sequence=self.leg.last_sequence + 1, timestamp=self.leg.next_timestamp()))
        if self._outgoing_events:
            packet = self._outgoing_events.popleft()
            self.leg.send(packet)
            if not self._outgoing_events:  # the next audio continues after the event's duration
                self.leg.last_timestamp = packet.timestamp + int.from_bytes(packet.payload[2:4], "big") - FRAME
            return True
        self._send_audio()
        return True

    def _send_audio(self) -> None:
        prompt = self._prompts[0]
        chunk = prompt.pcm[prompt.position:prompt.position + FRAME]
        prompt.position += FRAME
        if len(chunk) < FRAME:
            chunk = np.concatenate([chunk, np.zeros(FRAME - len(chunk), dtype=np.int16)])
        self.leg.send(RtpPacket(self.leg.codec, (self.leg.last_sequence + 1) & 0xFFFF,
                                self.leg.next_timestamp(), self.leg.ssrc,
                                encode(chunk, LAW[self.leg.codec]), marker=self._talkspurt))
        self._talkspurt = False
        if prompt.position >= len(prompt.pcm):
            self._prompts.popleft()
            if not prompt.done.done():
                prompt.done.set_result(True)

    # Incoming --------------------------------------------------------------------------------------------------
    def _received(self, packet: RtpPacket) -> None:
        if packet.payload_type == self.leg.event_payload_type:
            try:
                digit = self._digit_receiver.feed(packet)
            except RtpError:
                return
            if digit is not None:
                self.digit_received(digit)
            return
        if packet.payload_type not in LAW:
            return
        if self.recorder is not None:
            self.recorder.left(packet.payload, LAW[packet.payload_type], packet.timestamp, packet.ssrc)
        if not (self._listeners or self.inband):
            return
        pcm = decode(packet.payload, LAW[packet.payload_type])
        if self.inband is not None:
            for start in range(0, len(pcm) - FRAME + 1, FRAME):
                if digit := self.inband.feed(pcm[start:start + FRAME]):
                    self.digit_received(digit)
        for queue in self._listeners:
            if queue.qsize() >= LISTEN_QUEUE_FRAMES:
                queue.get_nowait()
            queue.put_nowait(AudioFrame(pcm, packet.timestamp))

    def digit_received(self, digit: str) -> None:
        self.digits.put_nowait(digit)

    async def frames(self) -> AsyncIterator[AudioFrame]:
        """The far end's audio, 20 ms at a time, until the session closes."""
        queue: asyncio.Queue[AudioFrame | None] = asyncio.Queue()
        self._listeners.append(queue)
        try:
            while (frame := await queue.get()) is not None:
                yield frame
        finally:
            self._listeners.remove(queue)

    async def pcm(self) -> AsyncIterator[np.ndarray]:
        """The far end's audio as bare 20 ms arrays, for the speech package (which knows no RTP)."""
        async for frame in self.frames():
            yield frame.pcm

    # Recording -------------------------------------------------------------------------------------------------
    def record(self, recorder: StereoRecorder) -> None:
        """Left: what this leg receives; right: what it sends (prompts, or the other leg when bridged)."""
        self.recorder = recorder
        self.leg.sent_listeners.append(self._sent)
        self.clock.add(recorder)

    def _sent(self, packet: RtpPacket) -> None:
        if self.recorder is not None and packet.payload_type in LAW:
            self.recorder.right(packet.payload, LAW[packet.payload_type], packet.timestamp, packet.ssrc)

    def close(self) -> None:
        self.stop_playback()
        self._pending_digits.clear()
        self._outgoing_events.clear()
        for queue in self._listeners:
            queue.put_nowait(None)
        if self.recorder is not None:
            self.recorder.close()
        self.clock.discard(self)
        self.leg.close()
