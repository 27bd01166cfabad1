"""A flow's channel on a live call: prompts played on the leg's media session, digits from it (RFC 4733,
SIP INFO or in-band), speech recognised from its frames, messages recorded from them.

Prompt audio comes from `prompt_audio(prompt id, text, language)` (TTS with a recorded WAV overriding, in
`speech.tts`; rendering runs in a thread so the event loop keeps relaying media); a digit pressed during
a prompt, or while a spoken answer is awaited, stops it (barge-in) and stays queued for the node that reads
digits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dialer.leg import CallLeg
from audio.wav import write_pcm
from ivr.flow import Say

PromptAudio = Callable[[str, str, str], np.ndarray]
Listener = Callable[[CallLeg, str, str, float], Awaitable[Any | None]]  # (leg, grammar, language, timeout)
Transfer = Callable[[str, Mapping[str, Any]], Awaitable[None]]


class CallChannel:
    def __init__(self, leg: CallLeg, prompt_audio: PromptAudio, *, hang_up: Callable[[], Awaitable[object]],
                 transfer: Transfer | None = None, listener: Listener | None = None,
                 messages: Path | None = None) -> None:
        self.leg, self.prompt_audio = leg, prompt_audio
        self._hang_up, self._transfer, self._listener, self._messages = hang_up, transfer, listener, messages
        self.spoken: list[tuple[str, str]] = []  # (language, text) of every prompt played, in order

    @property
    def ended(self) -> bool:
        return self.leg.ended.is_set()

    async def say(self, say: Say, text: str, language: str) -> None:
        pcm = await asyncio.to_thread(self.prompt_audio, say.prompt, text, language)
        self.spoken.append((language, text))
        played = self.leg.media.play(pcm)
        digit_waiting = asyncio.ensure_future(self._digit_pending())
        ended = asyncio.ensure_future(self.leg.ended.wait())
        await asyncio.wait({played, digit_waiting, ended}, return_when=asyncio.FIRST_COMPLETED)
        for waiter in (digit_waiting, ended):
            waiter.cancel()
        if not played.done():
            self.leg.media.stop_playback()  # barge-in: the caller has answered already

    async def _digit_pending(self) -> None:
        while self.leg.media.digits.empty():
            await asyncio.sleep(0.02)

    async def digit(self, timeout_s: float) -> str | None:
        getter = asyncio.ensure_future(self.leg.media.digits.get())
        ended = asyncio.ensure_future(self.leg.ended.wait())
        done, _ = await asyncio.wait({getter, ended}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        ended.cancel()
        if getter in done:
            return getter.result()
        getter.cancel()
        return None

    async def listen(self, grammar: str, language: str, timeout_s: float) -> Any | None:
        """The spoken answer, or None: not understood, no listener, or a key pressed first (the caller chose the
        keypad: listening stops at once and the digit stays queued for the node's keypad fallback)."""
        if self._listener is None or not self.leg.media.digits.empty():
            return None
        heard = asyncio.ensure_future(self._listener(self.leg, grammar, language, timeout_s))
        key = asyncio.ensure_future(self._digit_pending())
        await asyncio.wait({heard, key}, return_when=asyncio.FIRST_COMPLETED)
        key.cancel()
        if not heard.done():
            heard.cancel()
            return None
        return heard.result()

    async def transfer(self, group: str, context: Mapping[str, Any]) -> None:
        if self._transfer is None:
            await self.hang_up()
            return
        await self._transfer(group, context)

    async def record_message(self, max_s: float) -> str | None:
        if self._messages is None:
            return None
        frames: list[np.ndarray] = []

        async def gather() -> None:
            async for frame in self.leg.media.frames():
                frames.append(frame.pcm)
        task = asyncio.ensure_future(gather())
        with contextlib.suppress(asyncio.TimeoutError):  # the message ends with the call or at max_s
            await asyncio.wait_for(asyncio.shield(self.leg.ended.wait()), max_s)
        task.cancel()
        if not frames:
            return None
        path = self._messages / f"{self.leg.call.call_id}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_pcm(path, np.concatenate(frames))
        return str(path)

    async def hang_up(self) -> None:
        if not self.ended:
            await asyncio.sleep(0.3)  # let the last prompt's tail reach the phone
            await self._hang_up()
