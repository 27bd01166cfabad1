"""The switchboard end to end on real sockets: the PSTN simulator as trunk and debtor, the agent bot as
the agent's softphone registered to our registrar, a bridged call, digits, recordings checked by content."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialer.agent_leg import LegState
from audio.wav import read_pcm
from dialer.simulate.agent_bot import AgentBot
from dialer.simulate.pstn import VOICES, Persona, PstnSimulator, Script
from dialer.sip.outcome import CallResult
from dialer.switchboard import Switchboard, Trunk
from tests.sound import read_stereo, similarity

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


async def test_a_call_given_up_while_ringing_is_cancelled_at_the_carrier(world) -> None:
    """A dialling task cancelled (a shutdown's drain ran out) sends CANCEL: the debtor's phone stops ringing
    at once instead of ringing on for a call nobody will take."""
    board, pstn, _ = world
    dialling = asyncio.ensure_future(board.call_debtor("+8613800000003", ring_timeout=30))
    for _ in range(100):
        await asyncio.sleep(0.02)
        if pstn.ua.calls and any(call.provisional for call in board.trunk_ua.calls.values()):
            break
    assert len(pstn.ua.calls) == 1  # ringing at the carrier
    far, ours = next(iter(pstn.ua.calls.values())), next(iter(board.trunk_ua.calls.values()))
    dialling.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dialling
    await asyncio.wait_for(far.ended.wait(), 2)  # CANCELled, not left ringing to its 60 s no-answer
    await asyncio.wait_for(ours.ended.wait(), 2)  # and settled on our side by the 487


async def test_a_dropped_agent_leg_is_called_again_and_info_digits_reach_the_debtor_leg(world) -> None:
    board, pstn, bot = world
    assert await bot.start()
    agent = board.login("agent1")
    await asyncio.wait_for(agent.up.wait(), 5)
    first = bot.legs[0]
    await bot.ua.hang_up(first.call)  # the softphone drops the nailed-up leg (crash, network, user)
    deadline = time.monotonic() + 10
    while (agent.established < 2 or agent.state is not LegState.IDLE) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert agent.established == 2 and agent.state is LegState.IDLE and len(bot.legs) == 2

    debtor = await board.call_debtor("+8613800000001", ring_timeout=5)
    phone_side = pstn.calls[-1].leg
    assert phone_side is not None
    assert await pstn.ua.send_info(phone_side.call, "7")  # SIP INFO, the fallback for RFC 4733
    assert await asyncio.wait_for(debtor.media.digits.get(), 2) == "7"
    await board.ua.hang_up(debtor.call)


@pytest.mark.parametrize("transport", ["tcp", "tls"])
async def test_a_trunk_over_tcp_or_tls_is_kept_alive_and_carries_calls(certificate, transport: str,
                                                                        tmp_path: Path) -> None:
    import ssl

    from dialer.sip.stream import StreamTransport
    from tests.dialer.conftest import server_context

    pstn = PstnSimulator(scripts={"+8613800000009": Script(Persona.PERSON, ring_s=0.2, talk_s=1.0)})
    secure = transport == "tls"
    await pstn.start(await StreamTransport.bind("127.0.0.1", 0, pstn.ua.layer.receive,
                                                server_context(certificate) if secure else None))
    trusting = ssl.create_default_context(cafile=str(certificate[0])) if secure else None
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=0.5, transport=transport, tls=trusting,
                                    keepalive_s=0.3), recordings=tmp_path)
    await board.start()
    try:
        debtor = await board.call_debtor("+8613800000009")
        assert debtor.answered
        assert debtor.call.invite.get("Via").startswith(f"SIP/2.0/{transport.upper()} ")
        await asyncio.wait_for(debtor.ended.wait(), 10)
        await asyncio.sleep(0.4)
        assert board.trunk_alive is True
        pstn.close()  # the carrier goes away: the keep-alive notices
        await asyncio.sleep(1.5)
        assert board.trunk_alive is False
    finally:
        await board.close()
        pstn.close()


async def test_calls_go_through_the_outbound_proxy(tmp_path: Path) -> None:
    """The request URI names the carrier; the datagrams go to the proxy (here the simulator itself)."""
    pstn = PstnSimulator(scripts={"+8613800000008": Script(Persona.BUSY)})
    await pstn.start()
    board = Switchboard(trunk=Trunk("carrier.invalid", 5060, outbound_proxy=pstn.address, keepalive_s=0))
    await board.start()
    try:
        debtor = await board.call_debtor("+8613800000008")
        assert (debtor.result, debtor.code) == (CallResult.BUSY, 486)
        assert debtor.call.invite.uri == "sip:+8613800000008@carrier.invalid:5060"
    finally:
        await board.close()
        pstn.close()
