"""Answering profiles: a latent-class model of the local hours debtors answer at, fitted by EM.

People answer by routine (before work, at lunch, after work), and one debtor's calls are few. Shrunk cell by
cell toward one segment curve, a debtor's estimate stays near the segment's average until dozens of their
own calls outweigh it. A mixture learns the routines from everyone's calls instead: K profiles, each an RPC
rate by local hour, and per segment the share of its debtors in each profile. A debtor's mix is the
posterior over profiles given their own calls (Bayes' rule): one answered call at 09:00 and a few unanswered
ones in the evening already point at the morning profile, while a debtor never called keeps their segment's
mix. K is chosen by BIC (penalised by the number of units), so a population without routines is one profile,
the segment's pooled curve; nothing here is tuned to a population.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

HOURS = 24
MOST = 6  # profiles tried at most: BIC picks fewer where the calls cannot tell more apart
PSEUDO = 1.0  # pseudo-trials at the pooled hour's rate in each profile's hour: never 0 or 1, untried hours pooled
RESTARTS = 4  # EM from several seeded starts, the best likelihood kept (deterministic: fixed seed)
STEPS = 200
TOLERANCE = 1e-7


@dataclass(frozen=True)
class Counts:
    """Units' calls by local hour: answered by the right party (`hits`) and made (`tries`), one row per unit,
    and each unit's segment."""

    hits: np.ndarray  # units x 24
    tries: np.ndarray  # units x 24
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Profiles:
    rates: np.ndarray  # profiles x 24: RPC chance by local hour
    mix: Mapping[str, np.ndarray]  # segment -> share of its debtors in each profile

    def posterior(self, segment: str, hits: np.ndarray, tries: np.ndarray) -> np.ndarray:
        """The chance the debtor follows each profile, from their segment's mix and their own calls."""
        log = np.log(self.mix[segment]) + _loglik(self.rates, hits[None, :], tries[None, :])[0]
        weights = np.exp(log - log.max())
        return weights / weights.sum()

    def hourly(self, segment: str, hits: np.ndarray, tries: np.ndarray, weight: float) -> np.ndarray:
        """The debtor's RPC chance by local hour: within each profile their own rate at an hour is a beta
        around the profile's, worth `weight` pseudo-trials, updated by their calls at that hour; the profiles'
        estimates are weighted by the posterior. One profile: the segment's curve shrunk toward the debtor's
        own hours; many calls: the debtor's own rates."""
        own = (hits[None, :] + weight * self.rates) / (tries[None, :] + weight)
        return self.posterior(segment, hits, tries) @ own


def fit(counts: Counts, most: int = MOST) -> Profiles:
    """The mixture with the lowest BIC among 1..`most` profiles (fewer units than profiles: fewer tried)."""
    best: tuple[float, Profiles] | None = None
    units = len(counts.segments)
    for k in range(1, max(1, min(most, units)) + 1):
        loglik, profiles = _fit(counts, k)
        free = k * int((counts.tries.sum(axis=0) > 0).sum()) + (k - 1) * len(set(counts.segments))
        bic = -2 * loglik + free * np.log(max(units, 2))
        if best is None or bic < best[0]:
            best = bic, profiles
    assert best is not None
    return best[1]


def _loglik(rates: np.ndarray, hits: np.ndarray, tries: np.ndarray) -> np.ndarray:
    """units x profiles: each unit's log-likelihood of its calls under each profile."""
    return hits @ np.log(rates).T + (tries - hits) @ np.log1p(-rates).T


def _fit(counts: Counts, k: int) -> tuple[float, Profiles]:
    overall = (counts.hits.sum() + 1) / (counts.tries.sum() + 2)
    pooled = (counts.hits.sum(axis=0) + PSEUDO * overall) / (counts.tries.sum(axis=0) + PSEUDO)
    names = sorted(set(counts.segments))
    member = np.array([[s == name for name in names] for s in counts.segments], dtype=float)  # units x segments
    rng = np.random.default_rng(0)
    best: tuple[float, Profiles] | None = None
    for _ in range(RESTARTS if k > 1 else 1):
        resp = rng.dirichlet(np.ones(k), size=len(counts.segments))
        previous = -np.inf
        for _ in range(STEPS):
            rates = ((resp.T @ counts.hits + PSEUDO * pooled) / (resp.T @ counts.tries + PSEUDO))
            mix = (member.T @ resp + 1) / (member.sum(axis=0)[:, None] + k)  # segments x profiles, Laplace
            log = np.log(member @ mix) + _loglik(rates, counts.hits, counts.tries)
            top = log.max(axis=1, keepdims=True)
            total = top[:, 0] + np.log(np.exp(log - top).sum(axis=1))
            resp = np.exp(log - total[:, None])
            loglik = float(total.sum())
            if loglik - previous < TOLERANCE:
                break
            previous = loglik
        if best is None or loglik > best[0]:
            best = loglik, Profiles(rates, {name: mix[j] for j, name in enumerate(names)})
    assert best is not None
    return best


def counts(units: Sequence[Sequence[tuple[int, bool]]], segments: Sequence[str]) -> Counts:
    """Counts from each unit's calls as (local hour, right party) pairs."""
    hits, tries = np.zeros((len(units), HOURS)), np.zeros((len(units), HOURS))
    for i, calls in enumerate(units):
        for hour, right_party in calls:
            tries[i, hour] += 1
            hits[i, hour] += right_party
    return Counts(hits, tries, tuple(segments))

