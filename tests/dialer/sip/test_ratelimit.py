"""The per-source SIP rate limit (`dialer.sip.ratelimit`): a burst, then the sustained rate, per host."""

from dialer.sip.ratelimit import MAX_SOURCES, SourceRateLimit


def test_a_source_gets_its_burst_then_its_rate_and_others_are_untouched() -> None:
    limit = SourceRateLimit(rate=10.0, burst=5)
    assert [limit.allow("10.0.0.1", 0.0) for _ in range(7)] == [True] * 5 + [False] * 2
    assert limit.newly_limited("10.0.0.1") and not limit.newly_limited("10.0.0.1")  # logged once an episode
    assert limit.allow("10.0.0.2", 0.0)  # another source has its own bucket
    assert limit.allow("10.0.0.1", 0.1) and not limit.allow("10.0.0.1", 0.1)  # 10/s: one more after 0.1 s
    assert "10.0.0.1" not in limit.limited  # allowed again: the episode is over
    assert sum(limit.allow("10.0.0.1", 10.0) for _ in range(100)) == 5  # refills to the burst, no further


def test_memory_is_bounded_and_idle_sources_go_first() -> None:
    limit = SourceRateLimit(rate=1.0, burst=2)
    limit.allow("busy", 0.0)
    limit.allow("busy", 0.0)
    for n in range(MAX_SOURCES):
        limit.allow(f"h{n}", 0.0)
    assert len(limit.buckets) <= MAX_SOURCES and not limit.allow("busy", 0.0)  # the flooder's debt is kept


def test_the_carriers_hosts_are_never_limited() -> None:
    limit = SourceRateLimit(rate=1.0, burst=1, exempt=frozenset({"203.0.113.5"}))
    assert all(limit.allow("203.0.113.5", 0.0) for _ in range(1000)) and not limit.buckets
