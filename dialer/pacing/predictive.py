"""Dunline's predictive pacer: a model of the next half-minute, checked against the abandon target.

At each decision it predicts, second by second over the horizon, how many agents will be free (ready now,
wrap-ups ending, and each talking agent's chance of finishing given how long they have talked) and how
many people will answer (each ringing call's chance of being a live answer given how long it has rung, and
the new calls' answer-time distribution). It then places the most new calls for which the expected
abandons over the horizon stay under the aim: a share of the campaign's target, calibrated on what happened,
throttled as the ledger nears its reserve under the target and replaced by progressive dialing at the
reserve. The reserve and the calibration's learning rate follow the ledger's depth and the team's size
(margins.py), so small teams and young ledgers are cautious by construction and large ones use the budget.
Answer-time, failure-time and talk-time distributions and the live-answer probability are learnt online.
For small teams the counts are treated as Poisson (exact discrete sums); for large ones as normal.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from dialer.pacing.estimator import AnswerRate, Durations, exponential_prior, uniform_prior
from dialer.pacing.margins import learning_rate, line_rate, spend
from dialer.pacing.view import PacingView, ProgressivePacer

_SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True)
class PredictiveConfig:
    target: float = 0.03  # campaign abandon target (of live-answered calls)
    aim: float = 1.5  # the marginal abandon rate per live answer the model allows, as a share of the target
    no_agent_timeout_s: float = 2.0
    wrap_s: float = 10.0
    max_lines_per_agent: float = 8.0
    horizon_s: int = 30
    set_point: float = 0.93  # share of the target the calibration steers the realised rate to
    settle_s: float = 3600.0  # the calibration corrects a bias within about this long, whatever the team
    theta_sd: float = 0.25  # ...unless its own noise (in log aim) would exceed this: see margins.py
    theta_start: float = 0.0  # a young ledger's reserve is the caution the rough early estimates need
    theta_min: float = -3.0
    theta_max: float = 1.0
    max_step: float = 0.25
    z_stop: float = 0.5  # dial progressively within this many standard errors under the target line...
    z_full: float = 1.0  # ...and spend the full aim only beyond this many (margins.py)
    search_chunk: int = 24
    discrete_up_to: int = 10  # staffed agents up to which counts are treated as discrete (Poisson)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF (Abramowitz and Stegun 7.1.26, absolute error < 1.5e-7)."""
    z = np.abs(x) / _SQRT2
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf)


_LOG_FACTORIAL = np.array([math.lgamma(n + 1) for n in range(1024)])


def _poisson_pmf(mean: np.ndarray, size: int) -> np.ndarray:
    """pmf over 0..size-1 for each mean (last axis added)."""
    x = np.arange(size)
    lam = np.maximum(mean, 1e-12)[..., None]
    return np.exp(-lam + x * np.log(lam) - _LOG_FACTORIAL[:size])


def poisson_shortfall(demand: np.ndarray, random_supply: np.ndarray, certain: np.ndarray) -> np.ndarray:
    """P(certain + R - D < 1) with D ~ Poisson(demand[k, t]) and R ~ Poisson(random_supply[t]).

    Counts of a few calls and agents are discrete and skewed; the normal approximation misjudges exactly
    the small-team cases, so this is the exact sum over R: sum_r P(R = r) P(D >= certain + r).
    """
    size = int(max(8.0, demand.max() * 2 + 10, random_supply.max() * 2 + 10))
    size = min(size, 1024 - int(certain.max()) - 1)
    pmf_r = _poisson_pmf(random_supply, size)  # (T, X)
    pmf_d = _poisson_pmf(demand, size + int(certain.max()) + 1)  # (K, T, Y)
    sf_d = 1.0 - np.cumsum(pmf_d, axis=-1) + pmf_d  # P(D >= y)
    need = certain.astype(int)[:, None] + np.arange(size)[None, :]  # (T, X)
    at_need = np.take_along_axis(sf_d, np.broadcast_to(need, sf_d.shape[:-1] + (size,)), axis=-1)
    return np.clip((pmf_r[None, :, :] * at_need).sum(axis=-1), 0.0, 1.0)


@dataclass
class PredictivePacer:
    config: PredictiveConfig = field(default_factory=PredictiveConfig)
    name: str = "dunline"
    answer: AnswerRate = field(default_factory=AnswerRate)
    live_ring: Durations = field(default_factory=lambda: Durations(uniform_prior(3.0, 25.0)))
    fail_ring: Durations = field(default_factory=lambda: Durations(uniform_prior(3.0, 30.0)))
    talk: Durations = field(default_factory=lambda: Durations(exponential_prior(150.0)))
    _fallback: ProgressivePacer = field(default_factory=ProgressivePacer)
    last_mode: str = "predictive"
    _theta: float = 0.0
    _clock: float = 0.0
    _pending: list[tuple[float, bool]] = field(default_factory=list)
    _seen_answered: int = 0
    _seen_abandoned: int = 0

    def __post_init__(self) -> None:
        self._theta = self.config.theta_start

    def on_resolved(self, ring_seconds: float, live: bool) -> None:
        # The outcome joins the answer-rate estimate only once every call dialled at the same time has
        # had time to resolve: counted at once, quick live answers would bias it upwards, then the slow
        # failures downwards (a burst of early dials would read 50%, then 11%).
        heapq.heappush(self._pending, (self._clock - ring_seconds, live))
        (self.live_ring if live else self.fail_ring).observe(ring_seconds)

    def _settle(self, now: float) -> None:
        complete_before = now - self.config.horizon_s
        while self._pending and self._pending[0][0] <= complete_before:
            self.answer.observe(heapq.heappop(self._pending)[1])

    def on_talk_ended(self, talk_seconds: float) -> None:
        self.talk.observe(talk_seconds)

    def on_abandoned(self, at: float) -> None:
        """Nothing to do: the ledger, seen in every view, is the record of abandons."""

    def calibrate(self, view: PacingView) -> None:
        """Stochastic approximation on what actually happened: every abandon lowers the aim, every
        connected live answer raises it a little, so the realised rate settles at the set point
        whatever the model's own bias (its approximations are rough for small teams). The step per
        answer follows the team's size (margins.learning_rate). The set point is never more than the
        rate that keeps a young ledger on the line where the throttle begins (margins.line_rate): a set
        point the throttle forbids would wind the aim up, to be spent all at once when the ledger lets go."""
        answered = view.total_answered - self._seen_answered
        abandoned = view.total_abandoned - self._seen_abandoned
        if answered <= 0:
            return
        cfg = self.config
        self._seen_answered, self._seen_abandoned = view.total_answered, view.total_abandoned
        set_rate = min(cfg.set_point * cfg.target, line_rate(view.ledger_answered, cfg.target, cfg.z_full))
        if set_rate <= 0.0:
            return
        rate = learning_rate(view.agents.staffed, self.talk.mean() + cfg.wrap_s, cfg.settle_s, set_rate, cfg.theta_sd)
        step = rate * (abandoned - set_rate * answered) / set_rate
        self._theta -= min(cfg.max_step, max(-cfg.max_step, step))
        self._theta = min(cfg.theta_max, max(cfg.theta_min, self._theta))

    def aim(self, view: PacingView) -> float:
        """The marginal abandon rate per live answer to allow now: calibrated, and scaled by what the
        ledger can spend (margins.spend): 0, progressive dialing, within its reserve under the target."""
        cfg = self.config
        share = spend(view.ledger_answered, view.ledger_rate * view.ledger_answered, cfg.target, cfg.z_stop, cfg.z_full)
        return cfg.aim * cfg.target * math.exp(self._theta) * share

    def lines_to_dial(self, view: PacingView) -> int:
        cfg = self.config
        self._clock = view.now
        self._settle(view.now)
        staffed = view.agents.staffed
        if staffed == 0:
            self.last_mode = "idle"
            return 0
        self.calibrate(view)
        if self.aim(view) <= 0.0:
            self.last_mode = "progressive"
            return self._fallback.lines_to_dial(view)
        self.last_mode = "predictive"
        room = int(cfg.max_lines_per_agent * staffed) - len(view.ringing_elapsed)
        if room <= 0:
            return 0
        p = min(max(self.answer.mean, 1e-3), 1.0)
        tau = np.arange(cfg.horizon_s + 1, dtype=float)

        # Supply: agents free by tau (+ the no-agent timeout), mean and variance.
        supply_at = tau + cfg.no_agent_timeout_s
        free_mean = np.full_like(tau, float(view.idle_agents))
        free_var = np.zeros_like(tau)
        certain = np.full_like(tau, float(view.idle_agents))  # agents surely free: idle, wrap-ups ending
        if view.agents.wrap_remaining:
            done = (np.asarray(view.agents.wrap_remaining)[:, None] <= supply_at[None, :]).astype(float)
            free_mean += done.sum(axis=0)
            certain += done.sum(axis=0)
        if view.agents.on_call_elapsed:
            elapsed = np.asarray(view.agents.on_call_elapsed)
            after_wrap = np.maximum(supply_at - cfg.wrap_s, 0.0)
            done = self.talk.residual_done_by(elapsed, after_wrap)
            done[:, supply_at < cfg.wrap_s] = 0.0
            free_mean += done.sum(axis=0)
            free_var += (done * (1.0 - done)).sum(axis=0)

        # Demand: live answers by tau from calls already ringing, and the waiting ones. For each interval
        # also the arrivals' own earlier-arrival probability, so an arriving call is not counted as
        # competing with itself for an agent.
        steps = len(tau) - 1
        demand_mean = np.full_like(tau, float(view.waiting))
        demand_var = np.zeros_like(tau)
        ring_arrivals = np.zeros(steps)
        ring_self = np.zeros(steps)
        ring_self_var = np.zeros(steps)
        if view.ringing_elapsed:
            elapsed = np.asarray(view.ringing_elapsed)
            f_live_e = self.live_ring.cdf(elapsed)
            survive = p * (1.0 - f_live_e) + (1.0 - p) * (1.0 - self.fail_ring.cdf(elapsed))
            answered_by = p * (self.live_ring.cdf(elapsed[:, None] + tau[None, :]) - f_live_e[:, None])
            prob = np.where(survive[:, None] > 1e-9, answered_by / np.maximum(survive[:, None], 1e-9), 0.0)
            demand_mean += prob.sum(axis=0)
            demand_var += (prob * (1.0 - prob)).sum(axis=0)
            step_prob = np.diff(prob, axis=1)
            ring_arrivals = step_prob.sum(axis=0)
            ring_self = (step_prob * prob[:, :-1]).sum(axis=0)
            ring_self_var = (step_prob * prob[:, :-1] * (1.0 - prob[:, :-1])).sum(axis=0)
        new_by = p * self.live_ring.cdf(tau)  # one new call: P(live answer by tau)
        new_step = np.diff(new_by)
        new_before = new_by[:-1]
        aim = self.aim(view)

        # Expected abandons over the horizon for k new calls; the k-th call is placed while the abandons
        # it adds per live answer stay within the aim (a Lagrangian rule: every call is worth the same,
        # so the rate is best spent where it buys most). k is searched in chunks until the first crossing.
        last_abandons = 0.0
        for start in range(0, room + 1, cfg.search_chunk):
            k = np.arange(start, min(room, start + cfg.search_chunk - 1) + 1, dtype=float)[:, None]
            d_mean = demand_mean[None, :] + k * new_by[None, :]
            d_var = demand_var[None, :] + k * new_by * (1.0 - new_by)
            arrivals = ring_arrivals[None, :] + k * new_step[None, :]
            weight = np.maximum(arrivals, 1e-12)
            self_mean = (ring_self[None, :] + k * new_step * new_before) / weight
            self_var = (ring_self_var[None, :] + k * new_step * new_before * (1.0 - new_before)) / weight
            others = np.maximum(d_mean[:, :-1] - self_mean, 0.0)
            if staffed <= cfg.discrete_up_to:
                unserved = poisson_shortfall(others, free_mean[:-1] - certain[:-1], certain[:-1])
            else:
                gap = free_mean[None, :-1] - others
                # The live-answer probability is itself an estimate: its error moves all answers together.
                p_var = self.answer.variance * ((d_mean[:, :-1] - view.waiting) / p) ** 2
                sd = np.sqrt(np.maximum(free_var[None, :-1] + d_var[:, :-1] - self_var, 0.0) + p_var + 1e-6)
                unserved = normal_cdf((0.5 - gap) / sd)
            abandons = (arrivals * unserved).sum(axis=1)
            # Abandons the k-th call adds (to itself and to the calls it competes with), per live answer.
            previous = np.concatenate(([last_abandons if start else abandons[0]], abandons[:-1]))
            rate = (abandons - previous) / max(new_by[-1], 1e-9)
            last_abandons = float(abandons[-1])
            over = np.nonzero(rate > aim)[0]
            if over.size:
                return max(0, start + int(over[0]) - 1)  # the most calls before the aim is first crossed
        return room
