"""Against a real, independent SIP peer: SIPp (Debian `sip-tester`) playing the trunk and the debtor's phone."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dialer.sip.digest import Credentials
from dialer.sip.outcome import CallResult
from dialer.sip.uac import UserAgent
from tests.integration.peers import free_port

pytestmark = pytest.mark.usefixtures("sipp_installed")
SCENARIOS = Path(__file__).parent / "sipp"
SDP = (b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       b"m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n")


class Sipp:
    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.args = ["sipp", *args, "-i", "127.0.0.1", "-p", str(self.port), "-m", "1", "-nostdin",
                     "-timeout", "30s"]

    async def __aenter__(self) -> "Sipp":
        self.process = await asyncio.create_subprocess_exec(*self.args, stdout=asyncio.subprocess.DEVNULL,
                                                            stderr=asyncio.subprocess.PIPE)
        await asyncio.sleep(0.4)
        return self

    async def finished_ok(self) -> bool:
        code = await asyncio.wait_for(self.process.wait(), 20)
        return code == 0

    async def __aexit__(self, *_: object) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    @property
    def peer(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def uri(self, user: str = "+8613812345678") -> str:
        return f"sip:{user}@127.0.0.1:{self.port}"


@pytest.fixture
async def agent() -> AsyncIterator[UserAgent]:
    ua = UserAgent(credentials=Credentials("trunkuser", "s3cret"))
    await ua.start()
    yield ua
    ua.close()


async def test_answered_call_is_acked_and_hung_up(agent: UserAgent) -> None:
    async with Sipp("-sn", "uas") as sipp:
        outcome = await agent.dial(sipp.uri(), sipp.peer, SDP)
        assert outcome.result is CallResult.ANSWERED and outcome.code == 200 and 180 in outcome.call.provisional
        assert await agent.hang_up(outcome.call) == 200
        assert await sipp.finished_ok()


@pytest.mark.parametrize("code, reason, result", [
    (486, "Busy Here", CallResult.BUSY), (480, "Temporarily Unavailable", CallResult.NO_ANSWER),
    (404, "Not Found", CallResult.INVALID_NUMBER), (503, "Service Unavailable", CallResult.UNAVAILABLE),
    (603, "Decline", CallResult.REJECTED),
])
async def test_failures_map_to_outcomes_and_are_acked(agent: UserAgent, code: int, reason: str,
                                                      result: CallResult, tmp_path: Path) -> None:
    scenario = tmp_path / "reject.xml"
    scenario.write_text((SCENARIOS / "reject.xml").read_text().replace("CODE", str(code)).replace("REASON", reason))
    async with Sipp("-sf", str(scenario)) as sipp:
        outcome = await agent.dial(sipp.uri(), sipp.peer, SDP)
        assert (outcome.result, outcome.code) == (result, code)
        assert await sipp.finished_ok()  # SIPp saw our ACK for the failure


async def test_digest_challenge_is_answered(agent: UserAgent) -> None:
    async with Sipp("-sf", str(SCENARIOS / "challenge.xml")) as sipp:
        outcome = await agent.dial(sipp.uri(), sipp.peer, SDP)
        assert outcome.result is CallResult.ANSWERED
        assert await agent.hang_up(outcome.call) == 200
        assert await sipp.finished_ok()  # SIPp checked the Authorization header


async def test_ring_timeout_cancels_the_call(agent: UserAgent) -> None:
    async with Sipp("-sf", str(SCENARIOS / "ring_forever.xml")) as sipp:
        outcome = await agent.dial(sipp.uri(), sipp.peer, SDP, ring_timeout=1.0)
        assert (outcome.result, outcome.code) == (CallResult.CANCELLED, 487)
        assert 1.0 <= outcome.ring_seconds < 5
        assert await sipp.finished_ok()


async def test_a_200_crossing_our_cancel_is_acked_and_hung_up(agent: UserAgent) -> None:
    async with Sipp("-sf", str(SCENARIOS / "answer_crossing_cancel.xml")) as sipp:
        outcome = await agent.dial(sipp.uri(), sipp.peer, SDP, ring_timeout=1.0)
        assert (outcome.result, outcome.code) == (CallResult.CANCELLED, 200)
        assert outcome.call.ended.is_set()
        assert await sipp.finished_ok()  # SIPp received our ACK and our BYE: never a silent answered call


async def test_sipp_registers_agents_with_digest_under_load() -> None:
    from dialer.sip.layer import TransactionLayer
    from dialer.sip.registrar import MAX_CONTACTS, Registrar
    from dialer.sip.transport import UdpTransport

    registrar = Registrar("dunline", {"agent1": "secret1"}.get)
    layer = TransactionLayer(lambda txn, request, source: registrar.handle(txn, request, source) if txn else None)
    transport = await UdpTransport.bind("127.0.0.1", 0, layer.receive)
    layer.transport = transport
    try:
        sipp = await asyncio.create_subprocess_exec(
            "sipp", f"127.0.0.1:{transport.local[1]}", "-sf", str(SCENARIOS / "register.xml"), "-i", "127.0.0.1",
            "-p", str(free_port()), "-m", "40", "-r", "20", "-l", "10", "-nostdin", "-timeout", "30s",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        assert await asyncio.wait_for(sipp.wait(), 40) == 0, (await sipp.stderr.read()).decode()[-400:]
        assert len(registrar.lookup("agent1")) == MAX_CONTACTS  # all forty lines registered; the newest kept
    finally:
        transport.close()


async def test_a_call_over_tcp_with_sipp_as_the_trunk() -> None:
    from dialer.sip.stream import StreamTransport

    ua = UserAgent()
    transport = await StreamTransport.bind("127.0.0.1", 0, ua.layer.receive)
    await ua.start(transport)
    try:
        async with Sipp("-sn", "uas", "-t", "t1") as sipp:
            outcome = await ua.dial(sipp.uri(), sipp.peer, SDP)
            assert outcome.result is CallResult.ANSWERED
            assert outcome.call.invite.get("Via").startswith("SIP/2.0/TCP ")
            assert await ua.hang_up(outcome.call) == 200
            assert await sipp.finished_ok()
            assert ua.layer.live <= 2 and transport.stats.sent == 3  # INVITE, ACK, BYE: no retransmissions
    finally:
        ua.close()


def pcap_rtp_payloads(path: Path) -> list[bytes]:
    """The RTP payloads of a classic pcap of Ethernet/IPv4/UDP/RTP packets (SIPp's bundled captures)."""
    import struct

    data, offset, payloads = path.read_bytes(), 24, []
    while offset + 16 <= len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        frame = data[offset + 16:offset + 16 + length]
        offset += 16 + length
        ip_header = (frame[14] & 0x0F) * 4
        payloads.append(frame[14 + ip_header + 8 + 12:])
    return payloads


async def test_trunk_sends_rfc4733_digits_and_audio_that_we_receive_and_record(tmp_path: Path) -> None:
    import numpy as np

    from dialer import leg as legs
    from dialer.media.clock import MediaClock
    from audio.g711 import decode
    from dialer.media.recorder import StereoRecorder
    from tests.sound import read_stereo, similarity

    pcaps = Path("/usr/share/sip-tester")
    scenario = tmp_path / "answer_play_digits.xml"
    scenario.write_text((SCENARIOS / "answer_play_digits.xml").read_text().replace("PCAPS", str(pcaps)))
    ua, clock = UserAgent(), MediaClock()
    await ua.start()
    try:
        async with Sipp("-sf", str(scenario), "-mi", "127.0.0.1") as sipp:
            leg = await legs.dial(ua, clock, sipp.uri(), sipp.peer, recorder=StereoRecorder(tmp_path / "call.wav"))
            assert leg.answered and leg.media.leg.codec == 8
            digits = [await asyncio.wait_for(leg.media.digits.get(), 5) for _ in range(3)]
            assert digits == ["1", "4", "#"]
            await asyncio.sleep(2.5)
            assert await ua.hang_up(leg.call) == 200
            assert await sipp.finished_ok()
    finally:
        ua.close()
        clock.close()
    heard, _, _ = read_stereo(tmp_path / "call.wav")
    sent = np.concatenate([decode(p, "alaw") for p in pcap_rtp_payloads(pcaps / "g711a.pcap")]).astype(float)
    assert similarity(heard, sent[4000:12000]) > 0.95  # a second of the trunk's speech, as it was sent
