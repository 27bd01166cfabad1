"""Online estimates a predictive pacer needs: live-answer probability, ring-time distributions, talk time.

Each starts from a weak prior (so the first minutes of a campaign pace sensibly) and forgets old data
exponentially, so a drifting answer rate is followed within a few hundred calls.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class AnswerRate:
    """Beta-Bernoulli estimate of P(live answer) with exponential forgetting (in resolved calls)."""

    prior_mean: float = 0.5  # high on purpose: over-estimating answers under-dials, the safe side
    prior_weight: float = 10.0
    half_life: float = 150.0
    live: float = field(init=False)
    total: float = field(init=False)

    def __post_init__(self) -> None:
        self.live, self.total = self.prior_mean * self.prior_weight, self.prior_weight

    def observe(self, live: bool) -> None:
        keep = 0.5 ** (1.0 / self.half_life)
        self.live = self.live * keep + live
        self.total = self.total * keep + 1.0

    @property
    def mean(self) -> float:
        return self.live / self.total

    @property
    def variance(self) -> float:
        """Of the estimate (the Beta posterior), not of a call's outcome."""
        return self.mean * (1.0 - self.mean) / (self.total + 1.0)


@dataclass
class Durations:
    """Recent durations as an empirical distribution (a window of the last `size` samples, prior-seeded)."""

    prior: tuple[float, ...]
    size: int = 400
    samples: deque[float] = field(init=False)
    _sorted: np.ndarray | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.samples = deque(self.prior, maxlen=self.size)

    def observe(self, seconds: float) -> None:
        self.samples.append(seconds)
        self._sorted = None

    @property
    def sorted(self) -> np.ndarray:
        if self._sorted is None:
            self._sorted = np.sort(np.fromiter(self.samples, float))
        return self._sorted

    def cdf(self, x: np.ndarray) -> np.ndarray:
        values = self.sorted
        return np.searchsorted(values, x, side="right") / len(values)

    def mean(self) -> float:
        return float(self.sorted.mean())

    def residual_done_by(self, elapsed: np.ndarray, horizon: np.ndarray) -> np.ndarray:
        """P(duration <= elapsed + h | duration > elapsed) for each elapsed (rows) and h (columns).

        Past the longest sample the tail is treated as exponential with the sample mean, so an agent
        talking longer than anyone before is still expected to finish some day.
        """
        f_elapsed = self.cdf(elapsed)[:, None]
        f_later = self.cdf(elapsed[:, None] + horizon[None, :])
        survive = 1.0 - f_elapsed
        tail = 1.0 - np.exp(-horizon[None, :] / max(self.mean(), 1.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            done = np.where(survive > 1e-9, (f_later - f_elapsed) / survive, tail)
        return np.clip(done, 0.0, 1.0)


def uniform_prior(low: float, high: float, count: int = 40) -> tuple[float, ...]:
    return tuple(np.linspace(low, high, count))


def exponential_prior(mean: float, count: int = 40) -> tuple[float, ...]:
    quantiles = (np.arange(count) + 0.5) / count
    return tuple(-mean * np.log(1.0 - quantiles))
