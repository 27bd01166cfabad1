"""Best time to call: right-party-contact probability by local weekday and hour, per debtor.

A debtor's own attempts are few, so each (weekday, hour) cell is a beta posterior whose prior is the debtor's
segment's rate in that cell, scaled by the debtor's own rate at that hour on other weekdays, with a fixed
weight of pseudo-attempts (empirical Bayes): a debtor with no history gets the segment's curve, and one with
many attempts mostly their own.
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
    """RPC probability for all 168 cells: (contacts + w * base) / (attempts + w).

    A debtor's calls are few and spread over 7 weekdays, so the base of a cell is the segment's cell scaled by
    how much better or worse the debtor answers at that hour on the *other* weekdays (itself shrunk toward the
    segment's hour): the hour of day learns from every call, the weekday refines it, and no call is counted
    twice in one cell's estimate."""
    hits: dict[Cell, int] = {}
    tries: dict[Cell, int] = {}
    for o in outcomes:
        cell = (o.weekday, o.hour)
        tries[cell] = tries.get(cell, 0) + 1
        hits[cell] = hits.get(cell, 0) + int(o.right_party)
    segment = {cell: (prior or {}).get(cell, FLOOR_RATE) for cell in ((d, h) for d in range(7) for h in range(24))}
    out = {}
    for hour in range(24):
        cells = [(d, hour) for d in range(7)]
        segment_hour = sum(segment[c] for c in cells) / 7
        hour_hits, hour_tries = sum(hits.get(c, 0) for c in cells), sum(tries.get(c, 0) for c in cells)
        for cell in cells:
            other_hits, other_tries = hour_hits - hits.get(cell, 0), hour_tries - tries.get(cell, 0)
            base = segment[cell]
            if other_tries and segment_hour > 0:
                own_hour = (other_hits + weight * segment_hour) / (other_tries + weight)
                base = min(1.0, base * own_hour / segment_hour)
            out[cell] = (hits.get(cell, 0) + weight * base) / (tries.get(cell, 0) + weight)
    return out


def segment_curve(outcomes: Iterable[Outcome]) -> dict[Cell, float]:
    """The segment's curve: its pooled outcomes shrunk toward the floor rate."""
    return rates(outcomes, None, weight=1.0)

