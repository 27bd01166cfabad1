"""VICIdial's adaptive rules behave as cited from AST_VDadapt.pl (see dialer/pacing/vicidial.py)."""

from dialer.pacing.vicidial import adapted_level, braked_level, taper_rate

QUIET = dict(minute_calls=0, minute_drops=0, today_calls=0, today_drop_rate=0.0, drop_limit=0.03, hhmm=1200)


def test_level_steps_by_the_averaged_differential_rounded_capped_and_floored() -> None:
    assert adapted_level(2.0, ready=3.0, waiting=1.0, logged_in=10.0) == 2.4  # 2.0 x (1 + 2/10)
    assert adapted_level(1.2345, ready=1.0, waiting=0.0, logged_in=3.0) == 1.646  # 3 decimals
    assert adapted_level(2.9, ready=10.0, waiting=0.0, logged_in=10.0) == 3.0  # cap
    assert adapted_level(1.1, ready=0.0, waiting=5.0, logged_in=10.0) == 1.0  # floor
    assert adapted_level(1.7, ready=0.0, waiting=0.0, logged_in=0.0) == 1.7  # nobody logged in: unchanged


def test_taper_is_hhmm_units_over_1000() -> None:
    assert taper_rate(1000) == 1.0 and taper_rate(1100) == 1.0  # more than 1000 left, or exactly: 1
    assert taper_rate(1430) == 0.67  # 2100 - 1430 = 670 HHMM units, not 390 minutes
    assert taper_rate(2130) < 0


def test_drop_rules_minute_window_and_daily_limit() -> None:
    assert braked_level(2.4, "hard_limit", **QUIET) == 2.4
    half = {**QUIET, "minute_calls": 21, "minute_drops": 11}
    assert braked_level(2.4, "hard_limit", **half) == 1.2
    assert braked_level(2.4, "hard_limit", **{**half, "minute_calls": 20, "minute_drops": 20}) == 2.4  # > 20 calls
    over = {**QUIET, "today_calls": 51, "today_drop_rate": 0.031}
    assert braked_level(2.4, "hard_limit", **over) == 1.0
    assert braked_level(2.4, "hard_limit", **{**over, "today_calls": 50}) == 2.4  # > 50 calls today
    assert braked_level(2.4, "hard_limit", **{**over, "today_drop_rate": 0.03}) == 2.4  # strictly over
    assert braked_level(2.4, "tapered", **{**over, "hhmm": 1600}) == 2.4 * 0.5
    assert braked_level(2.4, "tapered", **{**over, "hhmm": 1000}) == 2.4  # early in the day: no brake
    assert braked_level(2.4, "tapered", **{**over, "hhmm": 2200}) == 1.0  # past the latest server time
    assert braked_level(1.5, "tapered", **{**over, "hhmm": 2000}) == 1.0  # floored at 1.0
