"""RTP fixed header (RFC 3550 §5.1) and telephone-event payloads (RFC 4733 §2.3), as plain values.

Parsing never trusts the packet: a short or malformed datagram raises `RtpError` for the relay to count
and drop. Sequence numbers and timestamps wrap modulo 2^16 and 2^32.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace

HEADER = struct.Struct("!BBHII")
EVENT = struct.Struct("!BBH")
DTMF_EVENTS = "0123456789*#ABCD"  # event codes 0-15 (RFC 4733 §3.2)


class RtpError(ValueError):
    """A datagram that is not an RTP version 2 packet."""


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrc: tuple[int, ...] = ()

    def to_bytes(self) -> bytes:
        first = 0x80 | len(self.csrc)
        second = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        header = HEADER.pack(first, second, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc)
        return header + b"".join(struct.pack("!I", c) for c in self.csrc) + self.payload

    def rewritten(self, *, ssrc: int, sequence_offset: int, timestamp_offset: int) -> RtpPacket:
        """The same packet under another stream identity (what a bridge does between two legs)."""
        return replace(self, ssrc=ssrc, sequence=(self.sequence + sequence_offset) & 0xFFFF,
                       timestamp=(self.timestamp + timestamp_offset) & 0xFFFFFFFF)


def parse_rtp(data: bytes) -> RtpPacket:
    if len(data) < HEADER.size:
        raise RtpError(f"{len(data)} bytes is shorter than an RTP header")
    first, second, sequence, timestamp, ssrc = HEADER.unpack_from(data)
    if first >> 6 != 2:
        raise RtpError("not RTP version 2")
    count = first & 0x0F
    offset = HEADER.size + 4 * count
    if len(data) < offset:
        raise RtpError("CSRC list runs past the packet")
    csrc = struct.unpack_from(f"!{count}I", data, HEADER.size) if count else ()
    if first & 0x10:  # header extension (§5.3.1): skip it
        if len(data) < offset + 4:
            raise RtpError("extension header runs past the packet")
        words = struct.unpack_from("!H", data, offset + 2)[0]
        offset += 4 + 4 * words
    end = len(data)
    if first & 0x20:  # padding: the last octet says how much
        if end <= offset or data[-1] == 0 or data[-1] > end - offset:
            raise RtpError("bad padding")
        end -= data[-1]
    if offset > end:
        raise RtpError("header runs past the packet")
    return RtpPacket(second & 0x7F, sequence, timestamp, ssrc, bytes(data[offset:end]), bool(second & 0x80),
                     tuple(csrc))


@dataclass(frozen=True)
class TelephoneEvent:
    event: int
    end: bool
    volume: int
    duration: int  # in timestamp units

    @property
    def digit(self) -> str | None:
        return DTMF_EVENTS[self.event] if self.event < len(DTMF_EVENTS) else None

    def to_bytes(self) -> bytes:
        return EVENT.pack(self.event, (0x80 if self.end else 0) | (self.volume & 0x3F), self.duration & 0xFFFF)


def parse_event(payload: bytes) -> TelephoneEvent:
    if len(payload) < EVENT.size:
        raise RtpError("telephone-event payload shorter than 4 bytes")
    event, flags, duration = EVENT.unpack_from(payload)
    return TelephoneEvent(event, bool(flags & 0x80), flags & 0x3F, duration)


def digit_packets(digit: str, *, payload_type: int, ssrc: int, first_sequence: int, timestamp: int,
                  duration_ms: int = 100, rate: int = 8000, packet_ms: int = 20) -> Iterator[RtpPacket]:
    """One digit as RFC 4733 sends it: one timestamp for the whole event, growing duration, marker on the
    first packet, and the end packet three times (§2.5.1.4). Not all at timestamp 0 in one burst."""
    code = DTMF_EVENTS.index(digit.upper())
    step = rate * packet_ms // 1000
    total = rate * duration_ms // 1000
    sequence = first_sequence
    for elapsed in range(step, total, step):
        yield RtpPacket(payload_type, sequence & 0xFFFF, timestamp, ssrc,
                        TelephoneEvent(code, False, 10, elapsed).to_bytes(), marker=elapsed == step)
        sequence += 1
    for _ in range(3):
        yield RtpPacket(payload_type, sequence & 0xFFFF, timestamp, ssrc, TelephoneEvent(code, True, 10, total).to_bytes())
        sequence += 1


@dataclass
class DigitReceiver:
    """Turns a stream of telephone-event packets into digits, once each despite redundant end packets."""

    last_timestamp: int | None = None

    def feed(self, packet: RtpPacket) -> str | None:
        event = parse_event(packet.payload)
        if not event.end or packet.timestamp == self.last_timestamp:
            return None
        self.last_timestamp = packet.timestamp
        return event.digit
