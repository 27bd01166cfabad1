"""Playing the required messages on a live call.

`safe_harbour`: for an answered call that found no agent in time; the message starts as soon as the
prompt is ready (it is rendered once and cached, so well within the 2 s the rules allow), and a caller who
presses the opt-out key during it or just after gets a cease hold on the number. `voicemail_after_beep`:
for a call answered by a machine; the limited-content message starts when the beep has ended (answering
machine detection hears it), so the whole of it is on the tape, and is skipped if no beep comes in time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping

import numpy as np

from dialer.leg import CallLeg
from ivr.messages import DEFAULT_TEMPLATES, MessageTemplates, check_safe_harbour, check_voicemail, message_text
from speech.amd import AmdDetector, Verdict, detect

OPT_OUT_KEY = "9"
OPT_OUT_GRACE_S = 3.0
BEEP_WAIT_S = 30.0

RenderText = Callable[[str, str, str], np.ndarray]  # (prompt id, text, language) -> 8 kHz PCM


async def safe_harbour(leg: CallLeg, render: RenderText, values: Mapping[str, str], language: str, *,
                       hang_up: Callable[[], Awaitable[object]], opt_out: Callable[[], Awaitable[None]],
                       templates: MessageTemplates = DEFAULT_TEMPLATES) -> bool:
    """Play the safe-harbour message, then hang up; True when the caller opted out (and `opt_out` ran)."""
    template = templates.safe_harbour[language]
    check_safe_harbour(template)
    pcm = await asyncio.to_thread(render, "safe_harbour", message_text(template, values), language)
    played = leg.media.play(pcm)
    pressed = asyncio.ensure_future(_key(leg, OPT_OUT_KEY))
    await asyncio.wait({played, pressed}, return_when=asyncio.FIRST_COMPLETED)
    if not pressed.done():
        await asyncio.wait({pressed}, timeout=OPT_OUT_GRACE_S)
    opted_out = pressed.done() and not pressed.cancelled() and pressed.result()
    pressed.cancel()
    if opted_out:
        await opt_out()
    if not leg.ended.is_set():
        await hang_up()
    return bool(opted_out)


async def _key(leg: CallLeg, key: str) -> bool:
    while not leg.ended.is_set():
        if await leg.media.digits.get() == key:
            return True
    return False


async def voicemail_after_beep(leg: CallLeg, render: RenderText, values: Mapping[str, str], language: str, *,
                               hang_up: Callable[[], Awaitable[object]], company: str,
                               templates: MessageTemplates = DEFAULT_TEMPLATES,
                               detector: AmdDetector | None = None) -> bool:
    """Wait for the machine's beep, then leave the limited-content message; False when no beep came."""
    template = templates.voicemail[language]
    check_voicemail(template, company)
    pcm = await asyncio.to_thread(render, "voicemail", message_text(template, {**values, "company": company}),
                                  language)
    beeped = False

    async def wait_for_beep() -> None:
        nonlocal beeped
        async for verdict in detect(leg.media.pcm(), detector):
            if verdict.kind is Verdict.MACHINE_BEEP:
                beeped = True
                return
    with contextlib.suppress(asyncio.TimeoutError):  # no beep in time: no message (beeped stays False)
        await asyncio.wait_for(wait_for_beep(), BEEP_WAIT_S)
    if beeped and not leg.ended.is_set():
        await leg.media.play(pcm)
    if not leg.ended.is_set():
        await hang_up()
    return beeped
