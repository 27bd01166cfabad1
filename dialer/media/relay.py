"""RTP relay: one endpoint per call leg, bridged pairwise on the event loop (raw datagram forwarding).

Each leg latches onto the address its peer actually sends from (symmetric RTP, RFC 4961), so NATed
softphones work. A bridge forwards each packet to the other leg under that leg's own SSRC, with sequence
and timestamp offsets chosen so the receiver sees one continuous stream across re-bridging, and transcodes
PCMU <-> PCMA only when the two legs' codecs differ. Malformed datagrams are counted and dropped.

A leg keyed for SRTP (`srtp`, an agent's phone signalled over TLS) unprotects what arrives before anything
else sees it and protects what it sends last: listeners (the recorder included) and the other leg see plain
RTP, the wire only SRTP. A packet that fails authentication or replays is counted and dropped.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from audio.g711 import transcode
from dialer.media.rtp import RtpError, RtpPacket, parse_rtp
from dialer.media.srtp import SrtpContext, SrtpError

PCMU, PCMA = 0, 8
FRAME = 160  # samples in 20 ms at 8 kHz
PAUSE_S = 0.1  # a gap in sending longer than this is a pause the timestamps must show
LAW = {PCMU: "ulaw", PCMA: "alaw"}
Address = tuple[str, int]


@dataclass
class LegStats:
    received: int = 0
    sent: int = 0
    malformed: int = 0
    rejected: int = 0  # SRTP packets that failed authentication or replayed


@dataclass
class SrtpKeys:
    """An SRTP leg's two directions: `outbound` (our key) protects what we send, `inbound` (the key the peer
    put in its SDP) opens what it sends."""

    outbound: SrtpContext
    inbound: SrtpContext


class RtpLeg(asyncio.DatagramProtocol):
    """A local RTP port for one call leg.

    Every valid packet received goes to each of `listeners` (recorder, digit and audio taps) and then to
    `forward` while the leg is bridged; every packet sent goes to each of `sent_listeners`.
    """

    def __init__(self, codec: int = PCMU, event_payload_type: int = 101) -> None:
        self.codec = codec
        self.event_payload_type = event_payload_type
        self.remote: Address | None = None
        self.ssrc = secrets.randbits(32)
        self.stats = LegStats()
        self.listeners: list[Callable[[RtpPacket], None]] = []
        self.sent_listeners: list[Callable[[RtpPacket], None]] = []
        self.forward: Callable[[RtpPacket], None] | None = None
        self.bridged = False  # while True, what this leg sends comes from the other leg of a bridge
        self._socket: asyncio.DatagramTransport | None = None
        self.local: Address = ("0.0.0.0", 0)
        # Continuity of what this leg sends: last sequence and timestamp out.
        self.last_sequence = secrets.randbits(16)
        self.last_timestamp = secrets.randbits(32)
        self.last_sent_at = 0.0
        self.srtp: SrtpKeys | None = None

    @classmethod
    async def open(cls, host: str = "127.0.0.1", codec: int = PCMU, remote: Address | None = None) -> RtpLeg:
        loop = asyncio.get_running_loop()
        _, leg = await loop.create_datagram_endpoint(lambda: cls(codec), local_addr=(host, 0))
        leg.remote = remote  # from the peer's SDP until its first packet says where it really is
        return leg

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._socket = transport  # type: ignore[assignment]
        self.local = transport.get_extra_info("sockname")[:2]

    def datagram_received(self, data: bytes, addr: Address) -> None:
        try:
            if self.srtp is not None:
                data = self.srtp.inbound.unprotect(data)
        except SrtpError:
            self.stats.rejected += 1
            return
        try:
            packet = parse_rtp(data)
        except RtpError:
            self.stats.malformed += 1
            return
        self.stats.received += 1
        self.remote = addr[:2]  # symmetric RTP: answer where the peer really is
        for listener in self.listeners:
            listener(packet)
        if self.forward is not None:
            self.forward(packet)

    def next_timestamp(self) -> int:
        """The timestamp of the next 20 ms sent: one packet on, or, after a pause, as far on as the pause
        lasted (RFC 3550 §5.1: a timestamp is the sampling instant), so receivers and recorders keep time."""
        paused = time.monotonic() - self.last_sent_at
        step = FRAME if paused < PAUSE_S else round(paused * 8000 / FRAME) * FRAME
        return (self.last_timestamp + step) & 0xFFFFFFFF

    def send(self, packet: RtpPacket) -> None:
        self.last_sequence, self.last_timestamp = packet.sequence, packet.timestamp
        self.last_sent_at = time.monotonic()
        for listener in self.sent_listeners:
            listener(packet)
        if self._socket is not None and self.remote is not None:
            self.stats.sent += 1
            data = packet.to_bytes()
            self._socket.sendto(data if self.srtp is None else self.srtp.outbound.protect(data), self.remote)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()


@dataclass
class _Direction:
    source: RtpLeg
    target: RtpLeg
    sequence_offset: int | None = None
    timestamp_offset: int | None = None
    source_ssrc: int | None = None

    def forward(self, packet: RtpPacket) -> None:
        if self.sequence_offset is None or packet.ssrc != self.source_ssrc:
            # First packet (or the source restarted its stream): continue the target's outgoing numbering.
            self.source_ssrc = packet.ssrc
            self.sequence_offset = (self.target.last_sequence + 1 - packet.sequence) & 0xFFFF
            self.timestamp_offset = (self.target.next_timestamp() - packet.timestamp) & 0xFFFFFFFF
        payload_type, payload = packet.payload_type, packet.payload
        if payload_type in LAW and self.target.codec in LAW and payload_type != self.target.codec:
            payload, payload_type = transcode(payload, LAW[payload_type], LAW[self.target.codec]), self.target.codec
        elif payload_type == self.source.event_payload_type:
            payload_type = self.target.event_payload_type
        out = RtpPacket(payload_type, packet.sequence, packet.timestamp, packet.ssrc, payload, packet.marker)
        self.target.send(out.rewritten(ssrc=self.target.ssrc, sequence_offset=self.sequence_offset,
                                       timestamp_offset=self.timestamp_offset or 0))


@dataclass
class Bridge:
    a: RtpLeg
    b: RtpLeg
    _directions: list[_Direction] = field(default_factory=list)

    def __post_init__(self) -> None:
        there, back = _Direction(self.a, self.b), _Direction(self.b, self.a)
        self._directions = [there, back]
        self.a.forward, self.b.forward = there.forward, back.forward
        self.a.bridged = self.b.bridged = True

    def unbridge(self) -> None:
        self.a.forward = self.b.forward = None
        self.a.bridged = self.b.bridged = False
