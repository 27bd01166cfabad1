"""The campaign simulator on short shifts: reproducible, and the policies behave as they should."""

from dialer.pacing.predictive import PredictivePacer
from dialer.pacing.view import ProgressivePacer
from dialer.simulate.pacing import Scenario, drift, simulate

SHORT = dict(agents=10, answer_rate=0.3, shift_s=2 * 3600, seed=4)


def test_same_seed_same_shift() -> None:
    first = simulate(Scenario(**SHORT), ProgressivePacer())
    second = simulate(Scenario(**SHORT), ProgressivePacer())
    assert first == second and first.dials > 100


def test_progressive_never_abandons_and_predictive_keeps_agents_busier_within_target() -> None:
    progressive = simulate(Scenario(**SHORT), ProgressivePacer())
    ours = simulate(Scenario(**SHORT), PredictivePacer())
    assert progressive.abandoned == 0
    assert ours.abandon_rate <= 0.03
    assert ours.occupancy > progressive.occupancy + 0.05


def test_answering_machine_detection_errors_cost_abandons() -> None:
    scenario = Scenario(**{**SHORT, "machine_share": 0.3, "amd_accuracy": 0.9})
    result = simulate(scenario, ProgressivePacer())
    assert result.abandoned > 0  # people judged machines are hung up on, and that is an abandon


def test_drift_profile() -> None:
    assert (drift(0), drift(4 * 3600), drift(7 * 3600)) == (0.30, 0.10, 0.25)
