"""How strongly to shrink each unit's own rate toward its prior: the beta prior's weight in pseudo-trials,
estimated from the units themselves (empirical Bayes, method of moments).

Each unit (a debtor at an hour, an account's contacts) has a true rate p_i around a prior mean m_i that the
strategy already knows (its segment's curve, the propensity model). If the p_i are Beta-distributed around the
m_i with weight w, their spread is Var(p_i - m_i) = m_i(1 - m_i) / (w + 1). That spread is estimated without
bias from units tried at least twice: h(h-1) / (n(n-1)) estimates p_i², so
h(h-1)/(n(n-1)) - 2 m_i h/n + m_i² estimates (p_i - m_i)². A population whose units differ much from their
priors gets a small weight (a debtor's own few calls count), a homogeneous one a large weight; nothing here is
tuned to a population.
"""

from __future__ import annotations

from collections.abc import Iterable

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
