"""A lossy UDP relay for SIP tests: one socket on 127.0.0.1 between our user agent and a peer (SIPp).

The UA sends to `relay.address`; the relay forwards to the peer from that same socket, so the peer (which
answers and sends its own requests to the source address of what it received, not to our Via or Contact)
talks back to the relay, which forwards it to the UA. Rules added with `drop_once(predicate)` each drop the
first datagram they match, once. Everything is recorded in order, forwarded or dropped, so a test can
assert that what was lost came again (a retransmission) and what crossed the wire in which direction.

Datagrams are classified by their own small reading of the start line and headers, independent of the
SIP stack under test.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Address = tuple[str, int]
TO_PEER, TO_UA = "to_peer", "to_ua"
_COMPACT = {"i": "call-id", "v": "via", "f": "from", "t": "to", "m": "contact", "l": "content-length"}


@dataclass(frozen=True)
class Datagram:
    direction: str  # TO_PEER (from the UA) or TO_UA (from the peer)
    data: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def first_line(self) -> str:
        return self.data.split(b"\r\n", 1)[0].decode("utf-8", "replace")

    @property
    def is_response(self) -> bool:
        return self.first_line.startswith("SIP/2.0 ")

    @property
    def method(self) -> str | None:
        """The request's method, or None for a response."""
        return None if self.is_response else self.first_line.split(" ", 1)[0]

    @property
    def status(self) -> int | None:
        if not self.is_response:
            return None
        match = re.match(r"SIP/2\.0 (\d{3})", self.first_line)
        return int(match.group(1)) if match else None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        for line in head.split("\r\n")[1:]:
            key, sep, value = line.partition(":")
            if sep and _COMPACT.get(key.strip().lower(), key.strip().lower()) == wanted:
                return value.strip()
        return None

    @property
    def cseq_method(self) -> str | None:
        cseq = self.header("CSeq")
        return cseq.split()[-1] if cseq else None

    def __str__(self) -> str:
        return f"{self.direction}: {self.first_line} ({self.header('CSeq')})"


Predicate = Callable[[Datagram], bool]


def request(method: str) -> Predicate:
    """Matches a request of this method."""
    return lambda datagram: datagram.method == method


def response(status: int, method: str | None = None) -> Predicate:
    """Matches a response with this status (and, when given, the CSeq method it answers)."""
    return lambda datagram: datagram.status == status and (method is None or datagram.cseq_method == method)


@dataclass
class _Rule:
    predicate: Predicate
    spent: bool = False


class LossyRelay(asyncio.DatagramProtocol):
    def __init__(self, peer: Address, ua: Address | None = None) -> None:
        self.peer = peer
        self.ua = ua  # when not given, learned from the first datagram that does not come from the peer
        self.forwarded: list[Datagram] = []
        self.dropped: list[Datagram] = []
        self._rules: list[_Rule] = []
        self._socket: asyncio.DatagramTransport | None = None
        self._changed = asyncio.Event()

    @classmethod
    async def start(cls, peer: Address, ua: Address | None = None, host: str = "127.0.0.1") -> LossyRelay:
        """A relay to `peer`; give `ua` when the peer may speak first."""
        loop = asyncio.get_running_loop()
        _, relay = await loop.create_datagram_endpoint(lambda: cls(peer, ua), local_addr=(host, 0))
        return relay

    @property
    def address(self) -> Address:
        assert self._socket is not None
        return self._socket.get_extra_info("sockname")[:2]

    def drop_once(self, predicate: Predicate) -> None:
        """Drop the first datagram (either direction) that matches `predicate`; later ones pass."""
        self._rules.append(_Rule(predicate))

    @property
    def pending_drops(self) -> int:
        """Rules that have not yet met their datagram."""
        return sum(not rule.spent for rule in self._rules)

    def seen(self, predicate: Predicate) -> list[Datagram]:
        """Forwarded datagrams matching `predicate`, in order."""
        return [datagram for datagram in self.forwarded if predicate(datagram)]

    async def wait_for(self, predicate: Predicate, count: int = 1, timeout: float = 3.0) -> list[Datagram]:
        """Wait until at least `count` forwarded datagrams match; raises TimeoutError otherwise."""
        async def enough() -> list[Datagram]:
            while len(matches := self.seen(predicate)) < count:
                self._changed.clear()
                await self._changed.wait()
            return matches

        return await asyncio.wait_for(enough(), timeout)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._socket = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if addr[:2] == self.peer:
            direction, target = TO_UA, self.ua
        else:
            self.ua = addr[:2]
            direction, target = TO_PEER, self.peer
        datagram = Datagram(direction, data)
        for rule in self._rules:
            if not rule.spent and rule.predicate(datagram):
                rule.spent = True
                self.dropped.append(datagram)
                break
        else:
            if target is not None and self._socket is not None:
                self.forwarded.append(datagram)
                self._socket.sendto(data, target)
            else:
                self.dropped.append(datagram)  # from the peer before the UA ever spoke: nowhere to go
        self._changed.set()

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()

    def trace(self) -> str:
        """Every datagram in order, for assertion messages."""
        marked = [(d.at, f"  {d}") for d in self.forwarded] + [(d.at, f"X {d}") for d in self.dropped]
        return "\n".join(line for _, line in sorted(marked))
