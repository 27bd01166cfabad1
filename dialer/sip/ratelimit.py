"""Per-source request rate limit for the SIP socket: a token bucket per source host (RFC 3261 §26.3.2.4 asks
servers to bound what one source can make them do). Pure: the time is given.

Each host may send `burst` requests at once and `rate` a second after that; past it, its datagrams are dropped
unanswered before they are parsed (an answer would let a forged source address reflect traffic). The defaults
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
