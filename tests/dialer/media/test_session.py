"""Media sessions over real UDP: prompts paced at 20 ms, barge-in, digits, the far end's audio as frames."""

import asyncio
import time

import numpy as np

from dialer.media.clock import MediaClock
from dialer.media.relay import PCMA, RtpLeg
from dialer.media.session import MediaSession
from audio.wav import tone


async def pair(clock: MediaClock) -> tuple[MediaSession, MediaSession]:
    a, b = await RtpLeg.open(codec=PCMA), await RtpLeg.open(codec=PCMA)
    a.remote, b.remote = b.local, a.local
    return MediaSession(a, clock), MediaSession(b, clock)


async def test_a_prompt_arrives_as_frames_in_real_time_and_digits_come_through() -> None:
    clock = MediaClock()
    speaker, listener = await pair(clock)
    heard: list[np.ndarray] = []

    async def listen() -> None:
        async for frame in listener.frames():
            heard.append(frame.pcm)

    listening = asyncio.ensure_future(listen())
    await asyncio.sleep(0.01)
    started = time.monotonic()
    played = await asyncio.wait_for(speaker.play(tone(440, 0.5)), 3)
    elapsed = time.monotonic() - started
    assert played and 0.45 < elapsed < 0.7  # 25 packets at 20 ms, not a burst
    speaker.send_digits("7#")
    got = [await asyncio.wait_for(listener.digits.get(), 2) for _ in range(2)]
    assert got == ["7", "#"]
    await asyncio.sleep(0.05)
    listener.close()
    await asyncio.wait_for(listening, 1)
    audio = np.concatenate(heard)
    assert len(audio) == 4000 and np.abs(audio).max() > 6000  # every sample of the tone, G.711 decoded
    speaker.close()
    clock.close()


async def test_barge_in_stops_every_queued_prompt() -> None:
    clock = MediaClock()
    speaker, listener = await pair(clock)
    first, second = speaker.play(tone(440, 2.0)), speaker.play(tone(660, 2.0))
    await asyncio.sleep(0.1)
    speaker.stop_playback()
    assert await first is False and await second is False
    sent = speaker.leg.stats.sent
    await asyncio.sleep(0.1)
    assert speaker.leg.stats.sent == sent and not speaker.sending
    speaker.close()
    listener.close()
    clock.close()


async def test_in_band_digits_are_heard_when_detection_is_on() -> None:
    from dialer.media.dtmf import tones

    clock = MediaClock()
    speaker, listener = await pair(clock)
    listener.detect_inband_digits()
    await speaker.play(tones("90#"))
    got = [await asyncio.wait_for(listener.digits.get(), 2) for _ in range(3)]
    assert got == ["9", "0", "#"]
    speaker.close()
    listener.close()
    clock.close()
