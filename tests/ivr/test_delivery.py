"""Required messages on real calls: safe-harbour within 2 s with an opt-out key, and a voicemail left
after the answering machine's beep (checked in what the simulated debtor's line recorded)."""

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from cases import Store
from cases.models import Hold, HoldKind
from compliance.holds import place_hold
from audio.wav import read_pcm
from dialer.simulate.pstn import Persona, PstnSimulator, Script
from dialer.switchboard import Switchboard, Trunk
from ivr.delivery import safe_harbour, voicemail_after_beep
from speech.tts import PromptRenderer, Prompts
from tests.sound import read_stereo, rms

NUMBER = "+14155550123"
VALUES = {"company": "Dunline Services", "phone": "four one five, five five five, zero one zero zero", "person": "Amy"}


@pytest.fixture(scope="module")
def render(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    prompts = Prompts(PromptRenderer(tmp_path_factory.mktemp("prompts")))
    return lambda prompt, text, language: read_pcm(prompts.prompt(prompt, text, language))


async def line(tmp_path: Path, script: Script) -> tuple[PstnSimulator, Switchboard]:
    pstn = PstnSimulator(scripts={NUMBER: script}, record_heard=tmp_path / "heard")
    await pstn.start()
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=2, keepalive_s=0))
    await board.start()
    return pstn, board


async def test_safe_harbour_starts_within_two_seconds_and_the_opt_out_key_holds_the_number(
        sqlite_store: Store, render, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    render("safe_harbour", "warm the cache", "en")
    pstn, board = await line(tmp_path, Script(Persona.PERSON, ring_s=0.2, talk_s=30, answers=("9",), pause_s=0.5))
    try:
        debtor = await board.call_debtor(NUMBER)
        first_packet: list[float] = []
        debtor.media.leg.sent_listeners.append(lambda packet: first_packet.append(time.monotonic()))

        async def opt_out() -> None:
            with sqlite_store.session() as session:
                place_hold(session, kind=HoldKind.CEASE, actor="ivr", source="safe_harbour", e164=NUMBER)
        opted = await safe_harbour(debtor, render, VALUES, "en", hang_up=lambda: board.ua.hang_up(debtor.call),
                                   opt_out=opt_out)
        assert first_packet[0] - debtor.answered_at < 2.0
        assert opted and debtor.ended.is_set()
        with sqlite_store.session() as session:
            assert session.scalars(select(Hold)).one().e164 == NUMBER
    finally:
        await board.close()
        pstn.close()


async def test_voicemail_is_left_after_the_beep(render, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pstn, board = await line(tmp_path, Script(Persona.MACHINE, ring_s=0.2, talk_s=25))
    try:
        machine = await board.call_debtor(NUMBER)
        assert await voicemail_after_beep(machine, render, VALUES, "en", company="Dunline Services",
                                          hang_up=lambda: board.ua.hang_up(machine.call))
        await asyncio.sleep(0.3)
    finally:
        await board.close()
        pstn.close()
    heard, said, rate = read_stereo(next((tmp_path / "heard").glob("*.wav")))
    beep = len(said) - np.argmax(np.abs(said[::-1]) > 1000)  # the machine's last loud sample: the beep's end
    before, after = heard[:beep], heard[beep:]
    assert rms(before) < 50, "nothing may be said over the greeting"
    assert rms(after) > 500 and len(after) / rate > 3.0, "the message follows the beep"
