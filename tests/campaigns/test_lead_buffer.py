"""The runner's lead buffer: one hopper pass serves several dials, a lead is served once, in-flight accounts are
skipped, and an old or short buffer is fetched anew."""

from __future__ import annotations

from datetime import datetime, timezone

from campaigns.hopper import Lead
from campaigns.lead_buffer import LeadBuffer

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)


class Segment:
    """A hopper over a fixed ranking: accounts 1..n, best first; it counts its passes."""

    def __init__(self, n: int) -> None:
        self.ranked = [Lead(i, 100 + i, f"+86138000{i:05d}", float(n - i)) for i in range(1, n + 1)]
        self.passes: list[tuple[int, frozenset[int]]] = []
        self.dialled: set[int] = set()

    def leads(self, now: datetime, limit: int, *, exclude: frozenset[int] = frozenset()) -> list[Lead]:
        self.passes.append((limit, exclude))
        return [lead for lead in self.ranked if lead.account_id not in exclude | self.dialled][:limit]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_one_pass_serves_several_dials_each_lead_once() -> None:
    segment, clock = Segment(200), Clock()
    buffer = LeadBuffer(segment, fetch=50, ttl_s=2.0, monotonic=clock)
    served = [lead.account_id for _ in range(10) for lead in buffer.take(NOW, 3, frozenset())]
    assert served == list(range(1, 31))  # best first, none twice
    assert len(segment.passes) == 1 and segment.passes[0][0] == 50


def test_accounts_in_flight_are_skipped_and_the_buffer_refills_when_short() -> None:
    segment, clock = Segment(200), Clock()
    buffer = LeadBuffer(segment, fetch=5, ttl_s=2.0, monotonic=clock)
    assert [lead.account_id for lead in buffer.take(NOW, 2, frozenset())] == [1, 2]
    # account 3 went in flight elsewhere (a preview dial): never served from the buffer
    assert [lead.account_id for lead in buffer.take(NOW, 2, frozenset({1, 2, 3}))] == [4, 5]
    assert len(segment.passes) == 1
    # the buffer is empty: the next take passes over the segment again, with what is in flight left out
    segment.dialled |= {1, 2, 3, 4, 5}
    assert [lead.account_id for lead in buffer.take(NOW, 2, frozenset({4, 5}))] == [6, 7]
    assert segment.passes[1] == (5, frozenset({4, 5}))


def test_an_old_buffer_is_fetched_anew() -> None:
    segment, clock = Segment(200), Clock()
    buffer = LeadBuffer(segment, fetch=50, ttl_s=2.0, monotonic=clock)
    buffer.take(NOW, 1, frozenset())
    segment.ranked.insert(0, Lead(999, 1999, "+8613900000999", 1e9))  # a case that became the best meanwhile
    clock.t += 1.9
    assert buffer.take(NOW, 1, frozenset())[0].account_id == 2
    clock.t += 0.2
    assert buffer.take(NOW, 1, frozenset())[0].account_id == 999
    assert len(segment.passes) == 2


def test_no_lines_asks_nothing() -> None:
    segment = Segment(10)
    assert LeadBuffer(segment).take(NOW, 0, frozenset()) == []
    assert segment.passes == []
