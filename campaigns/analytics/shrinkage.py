"""How strongly to shrink each unit's own rate toward its prior: the beta prior's weight in pseudo-trials,
estimated from the units themselves (empirical Bayes: by moments, or by likelihood where trials stop on outcomes).

Each unit (a debtor at an hour, an account's contacts) has a true rate p_i around a prior mean m_i that the
strategy already knows (its segment's curve, the propensity model). If the p_i are Beta-distributed around the
m_i with weight w, their spread is Var(p_i - m_i) = m_i(1 - m_i) / (w + 1). That spread is estimated without
bias from units tried at least twice: h(h-1) / (n(n-1)) estimates p_i², so
h(h-1)/(n(n-1)) - 2 m_i h/n + m_i² estimates (p_i - m_i)². A population whose units differ much from their
priors gets a small weight (a debtor's own few calls count), a homogeneous one a large weight; nothing here is
tuned to a population.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

MIN_UNITS = 20  # units tried at least twice needed to measure the spread; fewer: the caller's default weight
LEAST = 1.0  # the prior is worth at least one trial: a unit never tried keeps its prior, one try is not 0% or 100%
MOST = 1000.0  # no measurable spread: the prior is all but certain


def weight(units: Iterable[tuple[int, int, float]], default: float) -> float:
    """The prior's weight from (successes, trials, prior mean) units; `default` when too few were tried twice."""
    spread, binomial, count = 0.0, 0.0, 0
    for hits, tries, mean in units:
        if tries < 2:
            continue
        spread += hits * (hits - 1) / (tries * (tries - 1)) - 2 * mean * hits / tries + mean * mean
        binomial += mean * (1 - mean)
        count += 1
    if count < MIN_UNITS:
        return default
    if spread <= 0:
        return MOST
    return min(MOST, max(LEAST, binomial / spread - 1))


GRID = 200  # weights tried by `sequential_weight`, log-spaced from LEAST to MOST


def sequential_weight(units: Iterable[tuple[int, int, float]], default: float) -> float:
    """The prior's weight that makes the units' own outcomes most likely (beta-binomial marginal likelihood,
    maximised on a log grid); `default` when fewer than MIN_UNITS were tried twice.

    For units whose trials stop on their outcomes: a debtor who pays off is not called again, so the accounts
    with two or more conversations are mostly those whose first did not pay, and `weight`'s moments (exact for
    trials fixed in advance) see too little spread and trust the prior far too much. The likelihood of a
    sequence does not depend on a stopping rule that looks only at the outcomes so far, so this estimate
    stays consistent however the calls were chosen."""
    rows = [(hits, tries, min(max(mean, 1e-6), 1 - 1e-6)) for hits, tries, mean in units if tries > 0]
    if sum(1 for _, tries, _ in rows if tries >= 2) < MIN_UNITS:
        return default
    hits = np.array([r[0] for r in rows], dtype=float)
    tries = np.array([r[1] for r in rows], dtype=float)
    mean = np.array([r[2] for r in rows])
    best, most_likely = default, -np.inf
    for w in np.exp(np.linspace(np.log(LEAST), np.log(MOST), GRID)):
        a, b = w * mean, w * (1 - mean)
        loglik = float((_lgamma(a + hits) + _lgamma(b + tries - hits) - _lgamma(w + tries)
                        - _lgamma(a) - _lgamma(b) + _lgamma(np.full_like(a, w))).sum())
        if loglik > most_likely:
            best, most_likely = float(w), loglik
    return best


_lgamma = np.vectorize(math.lgamma, otypes=[float])
