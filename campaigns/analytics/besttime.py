"""Best time to call: right-party-contact probability by local weekday and hour, per debtor.

A debtor's own attempts are few, so each (weekday, hour) cell is a beta posterior whose prior is the debtor's
segment's rate in that cell with a fixed weight of pseudo-attempts (empirical Bayes): a debtor with no
history gets the segment's curve, and one with many attempts mostly their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Cell = tuple[int, int]  # (weekday 0=Monday, local hour 0-23)
PRIOR_WEIGHT = 8.0  # pseudo-attempts the segment's curve is worth in each cell
FLOOR_RATE = 0.05  # the segment's rate in a cell it has never tried


@dataclass(frozen=True)
class Outcome:
    weekday: int
    hour: int
    right_party: bool


def rates(outcomes: Iterable[Outcome], prior: dict[Cell, float] | None = None,
          weight: float = PRIOR_WEIGHT) -> dict[Cell, float]:
    """RPC probability for all 168 cells: (contacts + w * prior) / (attempts + w)."""
    hits: dict[Cell, int] = {}
    tries: dict[Cell, int] = {}
    for o in outcomes:
        cell = (o.weekday, o.hour)
        tries[cell] = tries.get(cell, 0) + 1
        hits[cell] = hits.get(cell, 0) + int(o.right_party)
    out = {}
    for cell in ((d, h) for d in range(7) for h in range(24)):
        p = (prior or {}).get(cell, FLOOR_RATE)
        out[cell] = (hits.get(cell, 0) + weight * p) / (tries.get(cell, 0) + weight)
    return out


def segment_curve(outcomes: Iterable[Outcome]) -> dict[Cell, float]:
    """The segment's curve: its pooled outcomes shrunk toward the floor rate."""
    return rates(outcomes, None, weight=1.0)


def weight(curve: dict[Cell, float], weekday: int, hour: int) -> float:
    """How much better than the debtor's average this hour is (1.0 = average), to scale a lead's score."""
    mean = sum(curve.values()) / len(curve)
    return curve[(weekday, hour)] / mean if mean > 0 else 1.0
