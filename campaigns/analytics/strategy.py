"""Hopper strategies: the scores a campaign may rank its cases by, and the champion/challenger split.

- baseline: `campaigns.priority.priority` (days past due times balance), the hopper's default;
- propensity: expected collected per call, propensity to pay times balance;
- propensity + best time: the same, scaled by how good this hour is for the debtor (besttime.weight).
Each is a `campaigns.hopper.Rescore`; `split` sends each case to one of two strategies by its stable arm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from campaigns.analytics import arms, besttime
from campaigns.priority import expected_collected

Rescore = Callable[[int, Decimal, float], float]
STRATEGIES = ("baseline", "propensity", "propensity_besttime")


def baseline() -> Rescore:
    return lambda account_id, balance, base: base


def by_propensity(propensity: Mapping[int, float], curves: Mapping[int, dict[besttime.Cell, float]] | None = None,
                  cell: besttime.Cell | None = None) -> Rescore:
    """Expected collected; with `curves` and the local (weekday, hour) `cell`, weighted by best time."""
    def score(account_id: int, balance: Decimal, base: float) -> float:
        w = 1.0
        if curves is not None and cell is not None and account_id in curves:
            w = besttime.weight(curves[account_id], *cell)
        return expected_collected(propensity.get(account_id, 0.0), balance, w)
    return score


def split(seed: str, champion: Rescore, challenger: Rescore) -> Rescore:
    """Champion/challenger: each case is scored by its arm's strategy. Scores of the two arms are comparable
    only as far as the strategies are; a campaign that wants equal dials per arm ranks each arm separately."""
    return lambda account_id, balance, base: (
        challenger if arms.arm(account_id, seed) == arms.CHALLENGER else champion)(account_id, balance, base)
