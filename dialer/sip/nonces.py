"""The registrar's nonces (RFC 2617 §3.2.2 and §3.3, RFC 7616 §3.4): O(1) lookup, bounded, tied to a source.

A nonce is issued to the address that was challenged and is only good from there, so an answer overheard
on the wire cannot be replayed from elsewhere. Each answer must carry a nonce count above the highest one
accepted so far: a phone may reuse its nonce with nc 2, 3, ... (RFC 2617 §3.2.2), but the same answer twice
is a replay. An answer without qop counts as 1, which makes its nonce single-use.

Nonces are kept in the order they were issued, so expiry and eviction only ever take from the front: a
REGISTER costs O(1) (amortized) however many challenges are outstanding, and at most `capacity` nonces
are kept. Under a flood of challenges the oldest go first; a phone that then answers one of those is told
`stale` and answers the fresh nonce that comes with it.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass, field

Address = tuple[str, int]  # as the transport gives it (not imported from there: this module does no I/O)
NONCE_TTL_S = 300.0
NONCE_CAPACITY = 10_000  # ~2 MB; at the 900 challenges/s one core answers, a nonce still lives ~11 s


class Verdict(enum.Enum):
    FRESH = "fresh"  # issued to this source, count above any accepted: verify the answer
    UNKNOWN = "unknown"  # never issued, expired or evicted
    OTHER_SOURCE = "other source"
    REPLAYED = "replayed"  # a count not above the highest accepted

    @property
    def usable(self) -> bool:
        return self is Verdict.FRESH


@dataclass
class Issued:
    source: Address
    at: float
    highest_nc: int = 0


@dataclass
class NonceBook:
    ttl_s: float = NONCE_TTL_S
    capacity: int = NONCE_CAPACITY
    _issued: OrderedDict[str, Issued] = field(default_factory=OrderedDict)

    def __len__(self) -> int:
        return len(self._issued)

    def issue(self, nonce: str, source: Address, now: float) -> None:
        self._expire(now)
        while len(self._issued) >= self.capacity:
            self._issued.popitem(last=False)
        self._issued[nonce] = Issued(source, now)

    def check(self, nonce: str, source: Address, nc: int, now: float) -> Verdict:
        """What an answer with `nonce` and count `nc` from `source` would be; changes nothing."""
        self._expire(now)
        issued = self._issued.get(nonce)
        if issued is None:
            return Verdict.UNKNOWN
        if issued.source != source:
            return Verdict.OTHER_SOURCE
        return Verdict.FRESH if nc > issued.highest_nc else Verdict.REPLAYED

    def use(self, nonce: str, source: Address, nc: int, now: float) -> Verdict:
        """Like `check`, and a fresh answer's count becomes the one to beat. Call it once the answer is
        known to be right, so wrong guesses cannot use up a phone's counts."""
        verdict = self.check(nonce, source, nc, now)
        if verdict.usable:
            self._issued[nonce].highest_nc = nc
        return verdict

    def _expire(self, now: float) -> None:
        while self._issued:
            oldest = next(iter(self._issued.values()))
            if now - oldest.at < self.ttl_s:
                return
            self._issued.popitem(last=False)
