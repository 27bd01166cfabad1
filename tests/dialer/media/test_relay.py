"""The RTP relay over real UDP sockets: latching, SSRC/sequence rewrite, transcoding, continuity."""

import asyncio
import socket

from audio.g711 import transcode
from dialer.media.relay import PCMA, PCMU, Bridge, RtpLeg
from dialer.media.rtp import RtpPacket, parse_rtp


def phone() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


async def receive(sock: socket.socket, count: int) -> list[RtpPacket]:
    loop = asyncio.get_running_loop()
    return [parse_rtp(await asyncio.wait_for(loop.sock_recv(sock, 2048), 2)) for _ in range(count)]


async def test_bridge_rewrites_transcodes_and_stays_continuous_across_rebridging() -> None:
    debtor_leg, agent_leg = await RtpLeg.open(codec=PCMU), await RtpLeg.open(codec=PCMA)
    debtor, agent = phone(), phone()
    try:
        agent.sendto(RtpPacket(PCMA, 1, 0, 777, b"\xd5" * 160).to_bytes(), agent_leg.local)  # the agent latches
        await asyncio.sleep(0.05)
        bridge = Bridge(debtor_leg, agent_leg)
        voice = bytes(range(160))
        for n in range(5):
            debtor.sendto(RtpPacket(PCMU, 40000 + n, 1000 + 160 * n, 0xABCDEF, voice).to_bytes(), debtor_leg.local)
            await asyncio.sleep(0.005)
        heard = await receive(agent, 5)
        assert {p.ssrc for p in heard} == {agent_leg.ssrc} and {p.payload_type for p in heard} == {PCMA}
        assert [(p.sequence - heard[0].sequence) % 65536 for p in heard] == [0, 1, 2, 3, 4]
        assert heard[0].payload == transcode(voice, "ulaw", "alaw")

        bridge.unbridge()
        second = await RtpLeg.open(codec=PCMA)  # the next debtor call
        caller = phone()
        Bridge(second, agent_leg)
        caller.sendto(RtpPacket(PCMA, 5, 99999, 0x5555, b"\x55" * 160).to_bytes(), second.local)
        (next_packet,) = await receive(agent, 1)
        assert next_packet.sequence == (heard[-1].sequence + 1) % 65536  # one stream for the agent's phone
        assert next_packet.timestamp == (heard[-1].timestamp + 160) % 2**32
        assert next_packet.payload == b"\x55" * 160  # same codec: no transcoding
        caller.close()
        second.close()
    finally:
        debtor.close()
        agent.close()
        debtor_leg.close()
        agent_leg.close()


async def test_malformed_datagrams_are_counted_and_dropped() -> None:
    leg = await RtpLeg.open()
    sender = phone()
    try:
        for junk in (b"", b"hello", b"\x40" * 20):
            sender.sendto(junk, leg.local)
        sender.sendto(RtpPacket(PCMU, 1, 1, 1, b"x").to_bytes(), leg.local)
        await asyncio.sleep(0.05)
        assert leg.stats.malformed >= 2 and leg.stats.received == 1 and leg.remote == sender.getsockname()
    finally:
        sender.close()
        leg.close()
