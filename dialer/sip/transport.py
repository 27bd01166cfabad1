"""Transports (RFC 3261 §18): the only SIP code that touches sockets.

A transport delivers parsed messages with their source address to one handler and sends bytes. Datagrams
that do not parse, oversized ones included (`message.MAX_VIAS`, `MAX_HEADERS`, `MAX_MESSAGE_BYTES`), are
counted and dropped unanswered: a malformed packet must never crash the server, and an unanswered one
cannot be used to reflect traffic at a forged source address. So are those of a source past its rate limit
(`ratelimit.py`), before parsing, logged once per episode with the source.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from dialer.sip.message import SipParseError, SipRequest, SipResponse, parse
from dialer.sip.ratelimit import SourceRateLimit

log = logging.getLogger(__name__)
Address = tuple[str, int]
Handler = Callable[[SipRequest | SipResponse, Address], None]


class SipTransport(Protocol):
    name: str  # UDP, TCP or TLS: what Via and Contact say
    reliable: bool
    local: Address

    def send(self, data: bytes, address: Address) -> None: ...


@dataclass
class TransportStats:
    received: int = 0
    sent: int = 0
    malformed: int = 0
    limited: int = 0  # dropped: their source was over its rate limit
    refused: int = 0  # stream connections refused: their source was over its connection limit


class UdpTransport(asyncio.DatagramProtocol):
    name = "UDP"
    reliable = False

    def __init__(self, handler: Handler, limit: SourceRateLimit | None = None) -> None:
        self.handler = handler
        self.limit = limit
        self.stats = TransportStats()
        self.local: Address = ("0.0.0.0", 0)
        self._socket: asyncio.DatagramTransport | None = None

    @classmethod
    async def bind(cls, host: str, port: int, handler: Handler, limit: SourceRateLimit | None = None) -> UdpTransport:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_datagram_endpoint(lambda: cls(handler, limit), local_addr=(host, port))
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._socket = transport  # type: ignore[assignment]
        self.local = transport.get_extra_info("sockname")[:2]

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.stats.received += 1
        if self.limit is not None and not self.limit.allow(addr[0], time.monotonic()):
            self.stats.limited += 1
            if self.limit.newly_limited(addr[0]):
                log.warning("SIP requests from %s dropped: over %s/s (burst %s)", addr[0], self.limit.rate,
                            self.limit.burst)
            return
        if not data.strip(b"\r\n"):
            return  # keep-alive
        try:
            message = parse(data)
        except SipParseError as error:
            self.stats.malformed += 1
            log.debug("dropped malformed datagram from %s: %s", addr, error)
            return
        try:
            self.handler(message, addr[:2])
        except Exception:  # a bug in a handler must not take the socket down
            log.exception("SIP handler failed")

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)

    def send(self, data: bytes, address: Address) -> None:
        if self._socket is not None:
            self.stats.sent += 1
            self._socket.sendto(data, address)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()


@dataclass
class LoopbackTransport:
    """In-process transport for tests: what one end sends, the peer's handler receives (next loop turn)."""

    local: Address
    handler: Handler
    reliable: bool = False
    name: str = "UDP"
    peer: LoopbackTransport | None = None
    drop: Callable[[bytes], bool] = field(default=lambda data: False)
    stats: TransportStats = field(default_factory=TransportStats)

    def send(self, data: bytes, address: Address) -> None:
        self.stats.sent += 1
        if self.peer is None or self.drop(data):
            return
        peer = self.peer
        asyncio.get_running_loop().call_soon(peer._deliver, data, self.local)

    def _deliver(self, data: bytes, source: Address) -> None:
        self.stats.received += 1
        try:
            message = parse(data)
        except SipParseError:
            self.stats.malformed += 1
            return
        self.handler(message, source)


def loopback_pair(a: Handler, b: Handler) -> tuple[LoopbackTransport, LoopbackTransport]:
    left = LoopbackTransport(("127.0.0.1", 5060), a)
    right = LoopbackTransport(("127.0.0.1", 5061), b)
    left.peer, right.peer = right, left
    return left, right
