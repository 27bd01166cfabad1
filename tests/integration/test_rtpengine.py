"""Media anchored in a real rtpengine (user space, 127.0.0.1): the debtor (our PSTN simulator behind the trunk)
and the agent (baresip, registered to us) are bridged inside rtpengine, this process's RTP ports hear nothing of
the conversation, and the call's recording is made from rtpengine's capture, both sides of it."""

import asyncio
import time
from pathlib import Path

import pytest

from crypto import MasterKeys
from crypto.sealed import is_sealed
from dialer.agent_leg import LegState
from dialer.media.rtpengine import AnchoredBridge, MediaAnchors, RtpEngine
from dialer.simulate.pstn import PstnSimulator
from dialer.switchboard import Switchboard, Trunk
from recordings.storage import open_recording
from tests.conftest import require
from tests.integration.peers import Baresip, Rtpengine
from tests.integration.test_phones import AGENT_SPEECH, DEBTOR, GREETING, pstn, until  # noqa: F401 (fixture)
from tests.sound import contains_part_of, read_stereo, similarity


@pytest.mark.parametrize("sealed, agent_codecs", [(False, "PCMU,PCMA"), (True, "PCMU,PCMA"), (False, "PCMA")],
                         ids=["plain", "sealed", "transcoded"])  # the debtor speaks PCMU: a PCMA phone transcodes
async def test_a_call_anchored_in_rtpengine_is_bridged_and_recorded_there(pstn: PstnSimulator,  # noqa: F811
                                                                           tmp_path: Path, sealed: bool,
                                                                           agent_codecs: str) -> None:
    require("baresip", "rtpengine")
    keys = None
    if sealed:
        keys = MasterKeys(tmp_path / "master.key", environ={})
        keys.add()
    async with Rtpengine(tmp_path / "rtpengine") as rtpengine:
        engine = RtpEngine(rtpengine.address)
        assert await engine.ping()
        board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=1.0), password_of={"agent1": "pw-1"}.get,
                            recordings=tmp_path / "recordings", anchors=MediaAnchors(engine, tmp_path / "rtpengine"),
                            keys=keys)
        await board.start()
        try:
            async with Baresip(tmp_path / "baresip", "agent1", "pw-1", board.address, AGENT_SPEECH,
                               agent_codecs) as softphone:
                await until(lambda: board.registered("agent1") is not None, message=softphone.output)
                agent = board.login("agent1")
                await asyncio.wait_for(agent.up.wait(), 10)
                assert agent.current is not None and agent.current.anchor is not None
                debtor = await board.call_debtor(DEBTOR)
                assert debtor.answered and debtor.anchor is not None
                assert (debtor.media.leg.codec != agent.current.media.leg.codec) is (agent_codecs == "PCMA")
                connection = board.connect(debtor, agent)
                assert isinstance(connection.bridge, AnchoredBridge)
                await asyncio.wait_for(connection.bridge.ready, 5)
                ours, theirs = debtor.media.leg.stats.received, agent.current.media.leg.stats.received
                await asyncio.wait_for(connection.ended.wait(), 15)
                call_s = time.monotonic() - debtor.answered_at
                # ~3 s of talk both ways (~150 packets each) went through rtpengine, not through our ports: at most
                # what was already queued on them when rtpengine re-pointed (a busy loop reads it late)
                assert debtor.media.leg.stats.received - ours <= 10
                assert agent.current.media.leg.stats.received - theirs <= 10
                assert agent.state is LegState.IDLE
                await asyncio.wait_for(debtor.closed.wait(), 10)
                await board.logout("agent1")
                await softphone.quit()
                assert similarity(softphone.heard().astype(float), GREETING[800:12000].astype(float)) > 0.8
            recording = debtor.media.recorder.path
            assert is_sealed(recording) is sealed  # sealed as the recordings made here are
            with open_recording(recording, keys) as source:
                left, right, _ = read_stereo(source)
            assert call_s - 0.3 <= len(left) / 8000 <= call_s + 0.5  # from the answer to the hang-up (~3 s)
            assert similarity(left.astype(float), GREETING[800:12000].astype(float)) > 0.8  # the debtor
            assert contains_part_of(right, AGENT_SPEECH.astype(float)) > 0.8  # the agent, bridged in rtpengine
            assert not list((tmp_path / "rtpengine" / "pcaps").glob("*.pcap"))  # the capture in clear is gone
        finally:
            await board.close()


async def test_an_agent_leg_that_rtpengine_forgot_is_called_again(tmp_path: Path) -> None:
    """rtpengine restarted (or timed the leg out): the phone's SIP dialog is still up but its media is gone; the
    leg's keep-alive asks rtpengine too, and the agent's phone is called again, anchored anew."""
    require("baresip", "rtpengine")
    async with Rtpengine(tmp_path / "rtpengine") as rtpengine:
        engine = RtpEngine(rtpengine.address)
        board = Switchboard(password_of={"agent1": "pw-1"}.get, anchors=MediaAnchors(engine, tmp_path / "rtpengine"))
        await board.start()
        try:
            async with Baresip(tmp_path / "baresip", "agent1", "pw-1", board.address, AGENT_SPEECH) as softphone:
                await until(lambda: board.registered("agent1") is not None, message=softphone.output)
                agent = board.login("agent1", keepalive_s=0.5)
                await asyncio.wait_for(agent.up.wait(), 10)
                assert agent.current is not None and agent.current.anchor is not None
                first = agent.current.anchor
                await asyncio.sleep(1.2)  # keep-alives pass while rtpengine has the leg
                assert agent.established == 1
                await engine.command("delete", **{"call-id": first.call_id, "delete-delay": 0})
                await until(lambda: agent.established == 2 and agent.state is LegState.IDLE, timeout=10,
                            message=softphone.output)
                assert agent.current is not None and agent.current.anchor is not None
                assert agent.current.anchor.call_id != first.call_id and await agent.current.anchor.alive()
                await board.logout("agent1")
                await softphone.quit()
        finally:
            await board.close()
