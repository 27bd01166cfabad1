"""The media clock's lateness record (issue 15 item 3): how late each 20 ms tick woke, kept in a fixed histogram."""

from __future__ import annotations

import asyncio
import sys
import time

from dialer.latency import LatencyHistogram
from dialer.media.clock import MediaClock


def test_item_3_latency_histogram_gives_p50_p99_max_within_2_percent() -> None:
    histogram = LatencyHistogram()
    for n in range(1, 1001):  # 0.01 ms .. 10 ms, evenly
        histogram.record(n / 100_000)
    summary = histogram.summary()
    assert summary.count == 1000
    assert 5.0 <= summary.p50_ms <= 5.0 * 1.02 and 9.9 <= summary.p99_ms <= 9.9 * 1.02, summary
    assert summary.max_ms == 10.0


def test_item_3_latency_histogram_is_bounded_and_counts_what_overflows() -> None:
    histogram = LatencyHistogram()
    size = sys.getsizeof(histogram.counts)
    for n in range(100_000):
        histogram.record((n % 7) / 1000)
    histogram.record(1000.0)  # past the last bucket: still counted, and the max says how bad
    assert sys.getsizeof(histogram.counts) == size  # O(1): nothing grows with the number of ticks
    summary = histogram.summary()
    assert summary.count == 100_001 and summary.max_ms == 1_000_000.0
    assert 6.0 <= summary.p99_ms <= 6.0 * 1.02
    seconds = LatencyHistogram()
    seconds.record(2.0)  # an answer-to-bridge after answering-machine detection is read as well as a tick
    assert 2000.0 <= seconds.summary().p50_ms <= 2000.0 * 1.02
    assert LatencyHistogram().summary().count == 0 and LatencyHistogram().summary().p99_ms == 0.0


async def test_item_3_media_clock_records_each_ticks_lateness() -> None:
    clock = MediaClock()

    class Member:
        ticks = 0

        def tick(self, now: float) -> bool:
            self.ticks += 1
            if self.ticks == 5:
                time.sleep(0.030)  # one tick blocks the loop: the next one wakes at least 10 ms late
            return self.ticks < 10

    member = Member()
    clock.add(member)
    while member.ticks < 10:
        await asyncio.sleep(0.02)
    clock.close()
    lateness = clock.lateness.summary()
    assert lateness.count == clock.ticks >= 10
    assert lateness.max_ms >= 10.0, lateness
