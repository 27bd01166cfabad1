"""Best time to call: right-party-contact probability by local weekday and hour, per debtor.

The hour of day comes from answering profiles (campaigns.analytics.profiles): each debtor's curve is the
profiles' rates weighted by how well each explains their own calls, starting from their segment's mix, so a
debtor never called gets their segment's curve and a few calls already pick their routine; within a profile,
the debtor's own calls at an hour move its rate as far as debtors are seen to differ from their profiles.
The weekday refines the hour: a cell's rate is the debtor's hour rate times how the pooled calls at that hour
fared on that weekday, shrunk toward no weekday effect as strongly as the cells are alike (shrinkage.weight).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from campaigns.analytics import profiles, shrinkage

Cell = tuple[int, int]  # (weekday 0=Monday, local hour 0-23)
PRIOR_WEIGHT = 8.0  # pseudo-trials a prior is worth until the spread of the units can be measured


@dataclass(frozen=True)
class Outcome:
    weekday: int
    hour: int
    right_party: bool


def curves(history: Mapping[int, Sequence[Outcome]], segments: Mapping[int, str]) -> dict[int, dict[Cell, float]]:
    """RPC probability for all 168 cells of each account whose segment has calls in `history`."""
    called = [a for a in history if a in segments]
    if not called:
        return {}
    counts = profiles.counts([[(o.hour, o.right_party) for o in history[a]] for a in called],
                             [segments[a] for a in called])
    fitted = profiles.fit(counts)
    factor = weekday_factors([o for a in called for o in history[a]])
    weight = hour_weight(fitted, counts)

    def cells(hourly: np.ndarray) -> dict[Cell, float]:
        return {(d, h): min(1.0, float(hourly[h]) * factor[(d, h)]) for d in range(7) for h in range(24)}
    never = np.zeros(profiles.HOURS)
    segment_curve = {segment: cells(fitted.hourly(segment, never, never, weight)) for segment in fitted.mix}
    out = {account_id: segment_curve[segment] for account_id, segment in segments.items() if segment in fitted.mix}
    for i, account_id in enumerate(called):
        out[account_id] = cells(fitted.hourly(segments[account_id], counts.hits[i], counts.tries[i], weight))
    return out


def hour_weight(fitted: profiles.Profiles, counts: profiles.Counts) -> float:
    """The pseudo-trials a debtor's profiles are worth against their own calls at an hour: how far the
    debtors' own rates at an hour spread around what their profiles expect (shrinkage.weight)."""
    units = []
    for i, segment in enumerate(counts.segments):
        expected = fitted.posterior(segment, counts.hits[i], counts.tries[i]) @ fitted.rates
        units += [(int(counts.hits[i, h]), int(counts.tries[i, h]), float(expected[h]))
                  for h in np.flatnonzero(counts.tries[i])]
    return shrinkage.weight(units, PRIOR_WEIGHT)


def weekday_factors(outcomes: Sequence[Outcome]) -> dict[Cell, float]:
    """Each cell's rate over its hour's, from pooled calls: (hits + w * hour rate) / (tries + w) / hour rate,
    with w the pseudo-trials measured from how far the cells spread around their hours."""
    hits: dict[Cell, int] = {}
    tries: dict[Cell, int] = {}
    for o in outcomes:
        cell = (o.weekday, o.hour)
        tries[cell] = tries.get(cell, 0) + 1
        hits[cell] = hits.get(cell, 0) + int(o.right_party)
    hour_rate = {}
    for h in range(24):
        n = sum(tries.get((d, h), 0) for d in range(7))
        hour_rate[h] = sum(hits.get((d, h), 0) for d in range(7)) / n if n else 0.0
    weight = shrinkage.weight(((hits[c], tries[c], hour_rate[c[1]]) for c in tries), PRIOR_WEIGHT)
    out = {}
    for d in range(7):
        for h in range(24):
            rate = hour_rate[h]
            out[(d, h)] = ((hits.get((d, h), 0) + weight * rate) / (tries.get((d, h), 0) + weight) / rate
                           if rate > 0 else 1.0)
    return out
