"""Pacing decisions under edge cases, the estimators, and the VICIdial re-implementation."""

from dialer.agents import GroupSnapshot
from dialer.pacing.estimator import AnswerRate, Durations, uniform_prior
from dialer.pacing.predictive import PredictivePacer
from dialer.pacing.vicidial import VicidialPacer
from dialer.pacing.view import PacingView, ProgressivePacer


def view(ready: int = 0, on_call: tuple[float, ...] = (), wrap: tuple[float, ...] = (), paused: int = 0,
         ringing: tuple[float, ...] = (), waiting: int = 0, ledger_rate: float = 0.0, answered: int = 0,
         now: float = 100.0) -> PacingView:
    return PacingView(now, GroupSnapshot(ready, 0, on_call, wrap, paused), ringing, waiting, ledger_rate, answered,
                      answered, int(ledger_rate * answered))


def trained(answer_rate: float, calls: int = 400) -> PredictivePacer:
    pacer = PredictivePacer()
    for n in range(calls):
        pacer._clock = float(n)
        pacer.on_resolved(12.0 if n % round(1 / answer_rate) == 0 else 15.0, n % round(1 / answer_rate) == 0)
    pacer._settle(10_000.0)
    for _ in range(200):
        pacer.on_talk_ended(120.0)
    return pacer


def test_no_agents_or_all_paused_means_no_calls() -> None:
    pacer = trained(0.2)
    assert pacer.lines_to_dial(view()) == 0
    assert pacer.lines_to_dial(view(paused=10)) == 0


def test_idle_agents_get_more_lines_than_agents_when_answers_are_rare() -> None:
    pacer = trained(0.2)
    assert pacer.lines_to_dial(view(ready=10)) == 10  # a new ledger has no headroom yet: progressive
    lines = pacer.lines_to_dial(view(ready=10, ledger_rate=0.01, answered=5000))
    assert 10 < lines <= 80  # more than progressive, within max lines per agent


def test_answer_rate_collapse_is_capped_by_max_lines_per_agent() -> None:
    pacer = trained(0.01, calls=2000)
    assert pacer.answer.mean < 0.02
    assert pacer.lines_to_dial(view(ready=5)) <= 8 * 5


def test_busy_agents_with_calls_already_ringing_get_no_more() -> None:
    pacer = trained(0.5)
    assert pacer.lines_to_dial(view(on_call=(1.0,) * 10, ringing=(1.0,) * 40)) == 0


def test_ledger_at_the_target_falls_back_to_progressive() -> None:
    pacer = trained(0.2)
    assert pacer.lines_to_dial(view(ready=4, ringing=(1.0,), ledger_rate=0.031, answered=1000)) == 3
    assert pacer.last_mode == "progressive"
    assert pacer.aim(view(ready=4, ledger_rate=0.029, answered=1000)) == 0.0  # inside the reserve
    throttled = pacer.aim(view(ready=4, ledger_rate=0.025, answered=1000))
    free = pacer.aim(view(ready=4, ledger_rate=0.01, answered=1000))
    assert 0 < throttled < free


def test_answer_rate_waits_for_complete_cohorts() -> None:
    pacer = PredictivePacer()
    pacer._clock = 10.0
    for _ in range(20):  # quick live answers arrive first after a burst of dials at t=0
        pacer.on_resolved(10.0, True)
    pacer._settle(10.0)
    assert pacer.answer.mean == 0.5  # still the prior: the failures of that cohort have not come in
    pacer._settle(31.0)
    assert pacer.answer.mean > 0.5


def test_estimators() -> None:
    rate = AnswerRate(prior_mean=0.5, prior_weight=10, half_life=50)
    for n in range(500):
        rate.observe(n % 10 == 0)
    assert 0.07 < rate.mean < 0.13
    ring = Durations(uniform_prior(4, 20))
    assert abs(ring.mean() - 12) < 0.5
    import numpy as np
    done = ring.residual_done_by(np.array([0.0, 19.0]), np.array([0.0, 10.0]))
    assert done[0, 0] == 0.0 and done[0, 1] > 0.3 and done[1, 1] == 1.0


def test_progressive_never_exceeds_idle_agents() -> None:
    assert ProgressivePacer().lines_to_dial(view(ready=5, ringing=(1.0, 2.0))) == 3
    assert ProgressivePacer().lines_to_dial(view(ready=5, waiting=5)) == 0


def test_vicidial_level_rises_with_idle_agents_and_hard_limit_brakes() -> None:
    pacer = VicidialPacer("hard_limit")
    for second in range(16):
        pacer.lines_to_dial(view(ready=10, now=float(second)))
    assert pacer.level > 1.5  # all agents idle: (10 - 0) / 10 doubles the level after 15 samples
    for n in range(60):
        pacer.on_resolved(10.0, True)
    for n in range(10):
        pacer.on_abandoned(20.0 + n)
    for second in range(16, 80):
        pacer.lines_to_dial(view(ready=10, now=float(second)))
    assert pacer.level == 1.0  # today's drop rate 10/60 is over 3%


def test_vicidial_places_level_times_agents_minus_calls_in_progress() -> None:
    pacer = VicidialPacer("tapered", level=2.0)
    assert pacer.lines_to_dial(view(ready=4, on_call=(5.0,) * 6, ringing=(1.0,) * 3, now=0.0)) == round(2 * 10) - 9


def test_dial_modes() -> None:
    from dialer.pacing import DialMode, pacer_for

    busy = view(ready=3, on_call=(5.0,) * 2, ringing=(1.0,))
    assert pacer_for(DialMode.PREVIEW).lines_to_dial(busy) == 0
    assert pacer_for(DialMode.PROGRESSIVE).lines_to_dial(busy) == 2
    assert pacer_for(DialMode.POWER, lines_per_agent=2.0).lines_to_dial(busy) == 5
    assert pacer_for(DialMode.AGENTLESS, max_concurrent=10).lines_to_dial(busy) == 7
    assert pacer_for(DialMode.PREDICTIVE).name == "dunline"
