"""Per-source limits for the SIP sockets: a request rate limit, a token bucket per source host (RFC 3261
§26.3.2.4 asks servers to bound what one source can make them do), and on stream listeners (TCP, TLS) a
connection limit (`ConnectionLimit`). Pure: the time is given.

Each host may send `burst` requests at once and `rate` a second after that; past it, its datagrams are dropped
unanswered before they are parsed (an answer would let a forged source address reflect traffic), and its stream
connection is closed (a connected source is no forged one, and closing frees what it holds). The defaults
(`dunline.settings`) sit far above what one phone or a contact centre's carrier sends: a floor of a few hundred
calls makes tens of requests a second, a flooder thousands. The carrier's hosts are `exempt`: a trusted peer
whose traffic grows with our own dialling must never be throttled by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_SOURCES = 10_000  # buckets kept at most: past it, the fullest (idlest) half is forgotten


@dataclass
class Bucket:
    tokens: float
    at: float


@dataclass
class SourceRateLimit:
    rate: float  # requests a second, sustained
    burst: int  # requests at once
    exempt: frozenset[str] = frozenset()  # hosts never limited (the carrier's)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    limited: set[str] = field(default_factory=set)  # hosts being dropped now (logged once per episode)

    def allow(self, host: str, now: float) -> bool:
        if host in self.exempt:
            return True
        bucket = self.buckets.get(host)
        if bucket is None:
            if len(self.buckets) >= MAX_SOURCES:
                self._forget_idle(now)
            bucket = self.buckets[host] = Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            self.limited.discard(host)
            return True
        return False

    def newly_limited(self, host: str) -> bool:
        """Whether this drop starts an episode for `host` (the caller logs it once, with the source)."""
        if host in self.limited:
            return False
        self.limited.add(host)
        return True

    def _forget_idle(self, now: float) -> None:
        """Forget the half of the buckets nearest to full: a flooder's empty bucket is the last to go."""
        by_fill = sorted(self.buckets, key=lambda host: self.buckets[host].tokens + (now - self.buckets[host].at)
                         * self.rate, reverse=True)
        for host in by_fill[: len(by_fill) // 2]:
            del self.buckets[host]
            self.limited.discard(host)


@dataclass
class ConnectionLimit:
    """Per-source limits on a stream listener (SIP over TCP or TLS): connections open at once, and new
    connections a second (a token bucket: `burst` at once, `rate` a second after that). A TLS handshake costs
    the server far more than a datagram does, so a source past either is refused before its handshake: the
    listener resets the socket unanswered. The carrier's hosts are `exempt`, as for requests."""

    max_open: int
    rate: float
    burst: int
    exempt: frozenset[str] = frozenset()
    open: dict[str, int] = field(default_factory=dict)  # connections open now, per host
    refused: set[str] = field(default_factory=set)  # hosts being refused now (logged once per episode)

    def __post_init__(self) -> None:
        self._new = SourceRateLimit(self.rate, self.burst, self.exempt)

    def admit(self, host: str, now: float) -> str | None:
        """Count a new connection from `host` in (None), or say why it is refused."""
        if host not in self.exempt:
            if self.open.get(host, 0) >= self.max_open:
                return f"{self.max_open} connection(s) already open"
            if not self._new.allow(host, now):
                return f"over {self.rate:g} new connection(s)/s (burst {self.burst})"
        self.open[host] = self.open.get(host, 0) + 1
        self.refused.discard(host)
        return None

    def release(self, host: str) -> None:
        """One of `host`'s admitted connections has closed."""
        left = self.open.get(host, 0) - 1
        if left > 0:
            self.open[host] = left
        else:
            self.open.pop(host, None)

    def newly_refused(self, host: str) -> bool:
        """Whether this refusal starts an episode for `host` (the caller logs it once, with the source)."""
        if host in self.refused:
            return False
        if len(self.refused) >= MAX_SOURCES:
            self.refused.clear()  # a few episodes logged twice rather than a set without bound
        self.refused.add(host)
        return True
