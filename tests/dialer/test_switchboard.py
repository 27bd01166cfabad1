"""The switchboard end to end on real sockets: the PSTN simulator as trunk and debtor, the agent bot as
the agent's softphone registered to our registrar, a bridged call, digits, recordings checked by content."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialer.agent_leg import LegState
from dialer.media.wav import read_pcm
from dialer.simulate.agent_bot import AgentBot
from dialer.simulate.pstn import VOICES, Persona, PstnSimulator, Script
from dialer.sip.outcome import CallResult
from dialer.switchboard import Switchboard, Trunk
from tests.audio import read_stereo, rms, similarity

GREETING = read_pcm(VOICES / "debtor-greeting.wav").astype(float)
AGENT_SPEECH = read_pcm(VOICES / "agent-speech.wav").astype(float)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Switchboard, PstnSimulator, AgentBot]]:
    pstn = PstnSimulator(scripts={
        "+8613800000001": Script(Persona.PERSON, ring_s=0.3, digits="12#", talk_s=5.0),
        "+8613800000002": Script(Persona.BUSY),
        "+8613800000003": Script(Persona.NO_ANSWER),
        "+8613800000004": Script(Persona.INVALID),
    }, record_heard=tmp_path / "heard")
    await pstn.start()
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=0.5), password_of={"agent1": "pw1"}.get,
                        recordings=tmp_path / "recordings")
    await board.start()
    bot = AgentBot("agent1", "pw1", board.address, record_to=tmp_path / "agent")
    yield board, pstn, bot
    await bot.close()
    await board.close()
    pstn.close()


async def test_debtor_is_bridged_to_the_agents_nailed_up_leg_and_recorded(world, tmp_path: Path) -> None:
    board, pstn, bot = world
    assert await bot.start()
    agent = board.login("agent1")
    await asyncio.wait_for(agent.up.wait(), 5)
    assert agent.state is LegState.IDLE and len(bot.legs) == 1

    debtor = await board.call_debtor("+8613800000001", ring_timeout=5)
    assert debtor.result is CallResult.ANSWERED
    connection = board.connect(debtor, agent)
    assert agent.state is LegState.BRIDGED
    assert connection.latency_s < 0.05

    digits = [await asyncio.wait_for(debtor.media.digits.get(), 5) for _ in range(3)]
    assert digits == ["1", "2", "#"]
    await asyncio.wait_for(connection.ended.wait(), 15)  # the debtor hangs up after talking
    call_seconds = time.monotonic() - debtor.answered_at
    assert agent.state is LegState.IDLE and agent.established == 1 and not bot.legs[0].ended.is_set()

    debtor_side, heard_by_debtor, rate = read_stereo(debtor.media.recorder.path)
    assert abs(len(debtor_side) / rate - call_seconds) < 0.3  # no audio lost, none invented
    assert similarity(debtor_side, GREETING) > 0.9  # the debtor's words, on the left
    assert similarity(heard_by_debtor, AGENT_SPEECH[:8000]) > 0.9  # the agent's words, on the right

    await bot.close()  # the bot's own recording: it heard the debtor through the bridge
    agent_heard, _, _ = read_stereo(tmp_path / "agent" / "agent1-1.wav")
    assert similarity(agent_heard, GREETING[800:]) > 0.9  # all but what came before the bridge (< 0.1 s)


async def test_failed_calls_map_to_outcomes_and_leave_nothing_behind(world) -> None:
    board, pstn, _ = world
    busy = await board.call_debtor("+8613800000002")
    invalid = await board.call_debtor("+8613800000004")
    unanswered = await board.call_debtor("+8613800000003", ring_timeout=0.6)
    assert (busy.result, busy.code) == (CallResult.BUSY, 486)
    assert (invalid.result, invalid.code) == (CallResult.INVALID_NUMBER, 404)
    assert (unanswered.result, unanswered.code) == (CallResult.CANCELLED, 487)
    assert 0.5 < unanswered.ring_seconds < 2
    assert all(leg.media.leg._socket is None or leg.media.leg._socket.is_closing() for leg in (busy, invalid, unanswered))
