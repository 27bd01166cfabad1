"""Time-varying scenarios of issue 21: the profiles, and the simulator following them."""

import pytest

from dialer.pacing.view import ProgressivePacer
from dialer.simulate.pacing import Scenario, answer_fall, simulate, talk_doubling


def test_profiles() -> None:
    assert (answer_fall(0), answer_fall(5400), answer_fall(7200), answer_fall(9000)) == pytest.approx((0.30, 0.20, 0.10, 0.10))
    assert (talk_doubling(3599), talk_doubling(3600)) == (120.0, 240.0)


def test_longer_talk_means_fewer_calls_per_agent_hour() -> None:
    base = dict(agents=5, answer_rate=0.3, shift_s=2 * 3600, seed=3)
    steady = simulate(Scenario(**base), ProgressivePacer())
    doubled = simulate(Scenario(**base, talk_mean_s=talk_doubling), ProgressivePacer())
    assert doubled.calls_per_agent_hour < 0.85 * steady.calls_per_agent_hour
