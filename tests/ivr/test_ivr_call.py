"""The IVR over real SIP and RTP: the PSTN simulator's debtor listens to each prompt and types on the
keypad; prompts are TTS (espeak-ng), digits RFC 4733; the case store, the recording and its transcript
(faster-whisper) are checked."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from cases import Store
from cases.models import Hold, HoldKind, Promise, Source
from audio.wav import read_pcm
from dialer.simulate.pstn import Persona, PstnSimulator, Script
from dialer.switchboard import Switchboard, Trunk
from ivr.actions import CampaignTerms
from ivr.service import IvrService
from speech.transcribe import Transcriber
from speech.tts import PromptRenderer, Prompts
from tests.sound import contains_part_of, read_stereo
from tests.ivr.test_runtime import DOB, ID_PREFIX, seed

NUMBER = "+14155550100"


@pytest.fixture(scope="module")
def prompts(tmp_path_factory: pytest.TempPathFactory) -> Prompts:
    return Prompts(PromptRenderer(tmp_path_factory.mktemp("prompts")))


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    return Transcriber("en")


@pytest.fixture
async def phone_line(tmp_path: Path) -> AsyncIterator[tuple[PstnSimulator, Switchboard]]:
    pstn = PstnSimulator()
    await pstn.start()
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=2, keepalive_s=0), recordings=tmp_path / "rec")
    await board.start()
    yield pstn, board
    await board.close()
    pstn.close()


async def call_into_ivr(board: Switchboard, ivr: IvrService, account_id: int):  # type: ignore[no-untyped-def]
    debtor = await board.call_debtor(NUMBER)
    assert debtor.answered
    log, channel = await asyncio.wait_for(
        ivr.handle(debtor, hang_up=lambda: board.ua.hang_up(debtor.call), caller=NUMBER, account_id=account_id), 150)
    await asyncio.wait_for(debtor.ended.wait(), 5)
    await asyncio.sleep(0.1)
    return debtor, log, channel


def prompts_recorded(channel, prompts: Prompts, recording: Path) -> float:  # type: ignore[no-untyped-def]
    """The share of the prompts played whose audio is found in the recording's right channel (what the debtor
    heard), by correlation: barge-in may cut a prompt short, so a voiced stretch of it is enough."""
    _, heard, _ = read_stereo(recording)
    found = [contains_part_of(heard, read_pcm(prompts.prompt("check", text, language)).astype(float)) > 0.8
             for language, text in channel.spoken]
    return sum(found) / max(1, len(found))


def ivr_for(sqlite_store: Store, prompts: Prompts) -> IvrService:
    return IvrService(sqlite_store, lambda prompt, text, language: read_pcm(prompts.prompt(prompt, text, language)),
                      terms=CampaignTerms(min_promise=Decimal("10"), latest_promise_days=3650))


async def test_a_debtor_verifies_hears_the_balance_and_promises_by_keypad(
        sqlite_store: Store, prompts: Prompts, phone_line) -> None:  # type: ignore[no-untyped-def]
    pstn, board = phone_line
    account_id, _ = seed(sqlite_store)
    pstn.scripts[NUMBER] = Script(Persona.PERSON, ring_s=0.2, talk_s=300,
                                  answers=("2", f"{DOB}#", f"{ID_PREFIX}#", "1", "150#", "20271210#", "1"))
    debtor, log, channel = await call_into_ivr(board, ivr_for(sqlite_store, prompts), account_id)
    assert log.outcome == "completed" and log.path[-1] == "thanks", (log.path, log.inputs, channel.spoken)
    with sqlite_store.session() as session:
        promise = session.scalars(select(Promise)).one()
        assert (promise.amount, promise.promised_for, promise.source) == (Decimal("150"), date(2027, 12, 10), Source.IVR)
    assert prompts_recorded(channel, prompts, debtor.media.recorder.path) == 1.0  # every prompt is on the tape


async def test_three_wrong_dates_of_birth_disclose_nothing_on_the_call(
        sqlite_store: Store, prompts: Prompts, transcriber: Transcriber, phone_line) -> None:  # type: ignore[no-untyped-def]
    pstn, board = phone_line
    account_id, _ = seed(sqlite_store)
    pstn.scripts[NUMBER] = Script(Persona.PERSON, ring_s=0.2, talk_s=300,
                                  answers=("2",) + ("19990101#", f"{ID_PREFIX}#") * 3)
    debtor, log, channel = await call_into_ivr(board, ivr_for(sqlite_store, prompts), account_id)
    assert log.path[-1] == "not_verified"
    assert prompts_recorded(channel, prompts, debtor.media.recorder.path) == 1.0
    assert not any("dollar" in text or "balance" in text for _, text in channel.spoken)
    heard = transcriber.transcribe_stereo(debtor.media.recorder.path).text("agent").lower()  # and on the tape:
    for disclosed in ("dollar", "balance", "debt", "340", "120", "overdue"):
        assert disclosed not in heard, heard


async def test_a_caller_we_do_not_know_can_stop_our_calls(sqlite_store: Store, prompts: Prompts,
                                                          phone_line, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Inbound: the number calls us; it matches no case, gets the general menu, and presses 5."""
    from dialer import leg as legs

    pstn, board = phone_line
    ivr = ivr_for(sqlite_store, prompts)
    runs = []

    async def inbound(leg, caller: str) -> None:  # type: ignore[no-untyped-def]
        runs.append(await ivr.handle(leg, hang_up=lambda: board.ua.hang_up(leg.call), caller=caller))
    board.inbound = inbound
    board.ua.on_incoming = board._incoming
    caller = await legs.dial(pstn.ua, pstn.clock, f"sip:dunline@{board.ua.host}:{board.ua.port}", board.address,
                             caller_id="+14155559999")
    assert caller.answered
    await pstn._answer_prompts(caller, Script(Persona.PERSON, answers=("2", "5")))
    await asyncio.wait_for(caller.ended.wait(), 60)
    await asyncio.sleep(0.2)
    log, _ = runs[0]
    assert "general_menu" in log.path and log.path[-1] == "cease_noted"
    with sqlite_store.session() as session:
        hold = session.scalars(select(Hold)).one()
        assert (hold.kind, hold.e164) == (HoldKind.CEASE, "+14155559999")


async def test_pressing_zero_transfers_to_an_agent_with_the_flows_findings(
        sqlite_store: Store, prompts: Prompts, phone_line) -> None:  # type: ignore[no-untyped-def]
    from dialer.agent_leg import LegState
    from dialer.simulate.agent_bot import AgentBot

    pstn, board = phone_line
    board.registrar.password_of = {"agent1": "pw"}.get
    bot = AgentBot("agent1", "pw", board.address)
    assert await bot.start()
    agent = board.login("agent1")
    await asyncio.wait_for(agent.up.wait(), 10)
    account_id, _ = seed(sqlite_store)
    pstn.scripts[NUMBER] = Script(Persona.PERSON, ring_s=0.2, talk_s=300,
                                  answers=("2", f"{DOB}#", f"{ID_PREFIX}#", "0"))
    debtor = await board.call_debtor(NUMBER)
    connections = []

    async def transfer(group: str, context) -> None:  # type: ignore[no-untyped-def]
        connections.append(board.transfer_to_agent(debtor, {"group": group, **context}))
    log, _ = await asyncio.wait_for(ivr_for(sqlite_store, prompts).handle(
        debtor, hang_up=lambda: board.ua.hang_up(debtor.call), caller=NUMBER, account_id=account_id,
        transfer=transfer), 150)
    try:
        assert log.outcome == "transferred" and connections[0] is not None
        assert agent.state is LegState.BRIDGED
        context = connections[0].context
        assert context["account_id"] == account_id and context["verified"] is True and context["group"] == "collectors"
        assert "dob" not in context  # sensitive inputs stay out of the screen pop
    finally:
        await board.ua.hang_up(debtor.call)
        await bot.close()
