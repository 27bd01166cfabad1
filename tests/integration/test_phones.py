"""Real, independent phones on both sides of the switchboard.

Agents: baresip registers (digest) to our registrar, or to kamailio in front of us, auto-answers its
nailed-up leg and must hear the bridged debtor (checked in baresip's own recording). Debtors: pjsua2 and
pyVoIP answer our trunk calls, send digits and hang up.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialer.agent_leg import AgentTarget, LegState
from audio.wav import read_pcm
from dialer.simulate.pstn import VOICES, Persona, PstnSimulator, Script
from dialer.sip.outcome import CallResult
from dialer.switchboard import Switchboard, Trunk
from tests.sound import contains_part_of, read_stereo, similarity
from tests.conftest import require
from tests.integration.peers import Baresip, Kamailio, free_port, free_port_range, phone

GREETING = read_pcm(VOICES / "debtor-greeting.wav")
AGENT_SPEECH = read_pcm(VOICES / "agent-speech.wav")
DEBTOR = "+8613800000001"


@pytest.fixture
async def pstn() -> AsyncIterator[PstnSimulator]:
    simulator = PstnSimulator(scripts={DEBTOR: Script(Persona.PERSON, ring_s=0.2, talk_s=3.0)})
    await simulator.start()
    yield simulator
    simulator.close()


async def until(condition, timeout: float = 5.0, message=lambda: "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in time\n{message()}")
        await asyncio.sleep(0.05)


async def bridge_one_debtor(board: Switchboard, agent_id: str) -> None:
    agent = board.agents[agent_id]
    await asyncio.wait_for(agent.up.wait(), 10)
    debtor = await board.call_debtor(DEBTOR)
    assert debtor.answered
    connection = board.connect(debtor, agent)
    await asyncio.wait_for(connection.ended.wait(), 15)
    assert agent.state is LegState.IDLE and agent.established == 1  # the nailed-up leg outlived the debtor
    _, heard_by_debtor, _ = read_stereo(debtor.media.recorder.path)
    assert contains_part_of(heard_by_debtor, AGENT_SPEECH.astype(float)) > 0.8  # the agent, through us


async def test_baresip_agent_registers_to_us_answers_its_leg_and_hears_the_debtor(pstn: PstnSimulator,
                                                                                    tmp_path: Path) -> None:
    require("baresip")
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=1.0), password_of={"agent1": "pw-1"}.get,
                        recordings=tmp_path / "recordings")
    await board.start()
    try:
        async with Baresip(tmp_path / "baresip", "agent1", "pw-1", board.address, AGENT_SPEECH) as softphone:
            await until(lambda: board.registered("agent1") is not None, message=softphone.output)
            board.login("agent1")
            await bridge_one_debtor(board, "agent1")
            await board.logout("agent1")
            await softphone.quit()
            assert similarity(softphone.heard().astype(float), GREETING[800:12000].astype(float)) > 0.8
    finally:
        await board.close()


async def test_agent_registered_at_kamailio_is_reached_through_it(pstn: PstnSimulator, tmp_path: Path) -> None:
    require("baresip", "kamailio")
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=1.0), recordings=tmp_path / "recordings")
    await board.start()
    try:
        async with Kamailio(tmp_path / "kamailio") as proxy:
            assert await proxy.answering(board.ua)
            async with Baresip(tmp_path / "baresip", "agent7", "unused", proxy.address, AGENT_SPEECH) as softphone:
                await until(lambda: any("200 OK" in line and "binding" in line for line in softphone.lines))
                board.login("agent7", AgentTarget(f"sip:agent7@127.0.0.1:{proxy.port}", proxy.address), keepalive_s=1.0)
                await asyncio.wait_for(board.agents["agent7"].up.wait(), 10)
                leg = board.agents["agent7"].current
                assert leg is not None and leg.call.dialog is not None
                assert leg.call.dialog.route_set and f":{proxy.port}" in leg.call.dialog.route_set[0]  # Record-Route
                await asyncio.sleep(2.5)  # keep-alive OPTIONS go through kamailio and are answered
                await bridge_one_debtor(board, "agent7")
                await board.logout("agent7")  # the BYE too goes by the route set
                await softphone.quit()
                assert any("REQ BYE" in line for line in proxy.lines)
                assert similarity(softphone.heard().astype(float), GREETING[800:12000].astype(float)) > 0.8
    finally:
        await board.close()


async def test_pjsua2_debtor_phone_answers_sends_digits_and_hangs_up(tmp_path: Path) -> None:
    port = free_port()
    async with phone("pjsua_phone.py", "--port", str(port), "--rtp-port", str(free_port_range(20)),
                     "--ring-ms", "300", "--digits", "12#", "--hang-up-after", "3",
                     "--play", str(VOICES / "debtor-greeting.wav")) as debtor_phone:
        board = Switchboard(trunk=Trunk("127.0.0.1", port, min_ring_s=1.0), recordings=tmp_path)
        await board.start()
        try:
            debtor = await board.call_debtor(DEBTOR)
            assert (debtor.result, debtor.code) == (CallResult.ANSWERED, 200) and 180 in debtor.call.provisional
            try:
                digits = [await asyncio.wait_for(debtor.media.digits.get(), 5) for _ in range(3)]
            except TimeoutError:
                raise AssertionError(f"digits missing; the phone said:\n{debtor_phone.output()}") from None
            assert digits == ["1", "2", "#"]
            await asyncio.wait_for(debtor.ended.wait(), 10)
            assert debtor.call.ended_by_peer
            assert await debtor_phone.wait(10) == 0, debtor_phone.output()
            heard, _, _ = read_stereo(debtor.media.recorder.path)
            assert similarity(heard, GREETING[2000:10000].astype(float)) > 0.8  # what the phone played
        finally:
            await board.close()


async def test_pyvoip_debtor_phone_answers_sends_digits_and_hangs_up(tmp_path: Path) -> None:
    port = free_port()
    board = Switchboard(trunk=Trunk("127.0.0.1", port, min_ring_s=1.0), password_of={"debtor": "pw-d"}.get)
    await board.start()
    try:
        async with phone("pyvoip_phone.py", "--server-port", str(board.ua.port), "--port", str(port),
                         "--rtp-port", str(free_port_range(12)), "--password", "pw-d", "--digits", "12#",
                         "--hang-up-after", "4") as debtor_phone:
            assert board.registered("debtor") is not None  # it registered with digest to our registrar
            debtor = await board.call_debtor(DEBTOR)
            assert debtor.result is CallResult.ANSWERED
            debtor.media.detect_inband_digits()  # pyVoIP 1.6 sends no RFC 4733 events: its digits are tones
            digits = [await asyncio.wait_for(debtor.media.digits.get(), 6) for _ in range(3)]
            assert digits == ["1", "2", "#"]
            await asyncio.wait_for(debtor.ended.wait(), 10)
            assert debtor.call.ended_by_peer
            assert await debtor_phone.wait(15) == 0, debtor_phone.output()
    finally:
        await board.close()
