from dialer.ledger import AbandonLedger, CallAbandoned

DAY = 24 * 3600


def test_rate_over_a_30_day_window() -> None:
    ledger = AbandonLedger("c1", window_seconds=30 * DAY)
    for n in range(97):
        ledger.record(n * 60.0, False)
    for n in range(3):
        ledger.record(6000.0 + n, True, f"x{n}")
    assert ledger.counts(7000) == (3, 100) and ledger.rate(7000) == 0.03
    assert abs(ledger.headroom(7000)) < 1e-9
    # 30 days after the first calls they leave the window; the abandons (later) are still inside.
    assert ledger.counts(30 * DAY + 60 * 50) == (3, 49)  # calls at 0..3000 s expired, 46 + 3 remain


def test_uk_24_hour_window_and_hooks() -> None:
    heard: list[CallAbandoned] = []
    ledger = AbandonLedger("uk", window_seconds=DAY, hooks=[heard.append])
    ledger.record(0, True, "call-7")
    ledger.record(10, False)
    assert heard == [CallAbandoned("uk", "call-7", 0)]
    assert ledger.rate(DAY - 1) == 0.5
    assert ledger.rate(DAY + 1) == 0.0  # the abandon left the window
    assert ledger.total_abandoned == 1 and ledger.total_answered == 2
