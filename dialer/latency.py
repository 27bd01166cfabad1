"""A bounded latency histogram: how late the media clock woke, how long an answered debtor waited for an agent.

Recording is one logarithm and one counter bumped in a list allocated once, so it is cheap enough for every
20 ms tick of a clock serving hundreds of calls and never grows. Buckets widen by 2% from 0.1 ms to 100 s
(about 700 of them, one more for anything later): a tick's 0.3 ms and a bridge's 2 s after answering-machine
detection are both read to within 2%, to the bucket's upper edge (pessimistic), and the exact maximum is
kept beside them.
Pure: no clock of its own, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SMALLEST_S = 0.0001  # this and less counts in bucket 0
GROWTH = 1.02  # each bucket's upper edge is 2% above the one before
LARGEST_S = 100.0
_PER_LOG = 1 / math.log(GROWTH)
BUCKETS = math.ceil(math.log(LARGEST_S / SMALLEST_S) * _PER_LOG) + 1  # later values share one overflow bucket


@dataclass(frozen=True)
class LatencySummary:
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float


class LatencyHistogram:
    __slots__ = ("counts", "count", "max_s")

    def __init__(self) -> None:
        self.counts = [0] * (BUCKETS + 1)
        self.count = 0
        self.max_s = 0.0

    def record(self, seconds: float) -> None:
        index = math.ceil(math.log(seconds / SMALLEST_S) * _PER_LOG) if seconds > SMALLEST_S else 0
        self.counts[index if index < BUCKETS else BUCKETS] += 1
        self.count += 1
        if seconds > self.max_s:
            self.max_s = seconds

    def percentile_s(self, share: float) -> float:
        """The smallest bucket edge at or below which `share` of the values lie (the maximum in the overflow)."""
        if not self.count:
            return 0.0
        wanted, seen = share * self.count, 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= wanted and count:
                return min(SMALLEST_S * GROWTH ** index, self.max_s) if index < BUCKETS else self.max_s
        return self.max_s

    def summary(self) -> LatencySummary:
        return LatencySummary(self.count, round(self.percentile_s(0.5) * 1000, 3),
                              round(self.percentile_s(0.99) * 1000, 3), round(self.max_s * 1000, 3))
