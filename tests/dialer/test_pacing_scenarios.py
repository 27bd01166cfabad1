"""Time-varying scenarios of issue 21: the profiles, and the simulator following them."""

import pytest

from dialer.agents import AgentState, AgentStateChanged
from dialer.pacing.view import ProgressivePacer
from dialer.simulate.pacing import CampaignSimulation, Scenario, answer_fall, simulate, talk_doubling


def test_profiles() -> None:
    assert (answer_fall(0), answer_fall(5400), answer_fall(7200), answer_fall(9000)) == pytest.approx((0.30, 0.20, 0.10, 0.10))
    assert (talk_doubling(3599), talk_doubling(3600)) == (120.0, 240.0)


def test_longer_talk_means_fewer_calls_per_agent_hour() -> None:
    base = dict(agents=5, answer_rate=0.3, shift_s=2 * 3600, seed=3)
    steady = simulate(Scenario(**base), ProgressivePacer())
    doubled = simulate(Scenario(**base, talk_mean_s=talk_doubling), ProgressivePacer())
    assert doubled.calls_per_agent_hour < 0.85 * steady.calls_per_agent_hour


def test_a_share_of_the_team_goes_on_break_at_once_and_comes_back() -> None:
    scenario = Scenario(agents=5, answer_rate=0.3, shift_s=1800, pause_share=0.4, pause_at_s=600, pause_s=300, seed=2)
    sim = CampaignSimulation(scenario, ProgressivePacer())
    changes: list[AgentStateChanged] = []
    sim.pool.subscribe(changes.append)
    sim.run()
    paused = [c for c in changes if c.new is AgentState.PAUSED]
    assert sorted(c.agent_id for c in paused) == ["a000", "a001"]  # 40% of five, each once
    assert all(600 <= c.at < 900 and c.reason == "break" for c in paused)
    back = [c for c in changes if c.old is AgentState.PAUSED and c.new is AgentState.READY]
    assert sorted(c.agent_id for c in back) == ["a000", "a001"] and {c.at for c in back} == {900.0}
    assert not any(c.agent_id == "a000" and c.new is AgentState.ON_CALL and 600 <= c.at < 900 for c in changes)
