"""The predictive pacer's margins (dialer/pacing/margins.py): caution by ledger depth, learning by team size."""

import pytest

from dialer.pacing.margins import learning_rate, line_rate, reserve, spend

T = 0.03


def test_caution_shrinks_as_the_ledger_grows() -> None:
    depths = (50, 200, 1000, 5000, 20000, 100000)
    caution = [reserve(n, T, 0.5) / n for n in depths]  # the reserve as a share of the answers
    assert all(later < earlier for earlier, later in zip(caution, caution[1:]))
    assert caution[0] >= 0.02 and caution[-1] < 0.0003
    slopes = [line_rate(n, T, 1.0) for n in depths]
    assert all(earlier < later < T for earlier, later in zip(slopes, slopes[1:]))


def test_a_young_ledger_stops_where_a_deep_one_spends() -> None:
    # The same realised rate, 2.5%: 5 abandons in 200 answers is within the reserve, 500 in 20,000 is not.
    assert spend(200, 5, T, 0.5, 1.0) == 0.0
    assert spend(20_000, 500, T, 0.5, 1.0) == 1.0


def test_the_ledger_can_always_take_one_more_abandon_while_the_pacer_spends() -> None:
    for answered in range(0, 3000, 7):
        for abandoned in range(0, int(T * answered) + 3):
            if spend(answered, abandoned, T, 0.5, 1.0) > 0.0:
                assert abandoned + 1 <= T * answered, (answered, abandoned)


def test_spend_is_zero_at_the_reserve_and_full_past_the_second_line() -> None:
    n = 10_000
    stop, full = reserve(n, T, 0.5), reserve(n, T, 1.0)
    assert spend(n, T * n - stop + 1e-9, T, 0.5, 1.0) == 0.0
    assert spend(n, T * n - (stop + full) / 2, T, 0.5, 1.0) == pytest.approx(0.5)
    assert spend(n, T * n - full, T, 0.5, 1.0) == pytest.approx(1.0) == spend(n, 0, T, 0.5, 1.0)
    assert spend(0, 0, T, 0.5, 1.0) == 0.0  # no answers yet: nothing to spend


def test_learning_rate_follows_team_size_and_is_capped_for_small_teams() -> None:
    rates = [learning_rate(n, 130.0, 3600.0, 0.028, 0.25) for n in (3, 5, 20, 50, 100)]
    cap = 2 * 0.028 * 0.25**2
    assert rates[0] == rates[1] == pytest.approx(cap)  # few answers an hour: noise, not speed, sets the step
    assert rates[2] == pytest.approx(130 / (20 * 3600))
    assert rates[2] > rates[3] > rates[4]
