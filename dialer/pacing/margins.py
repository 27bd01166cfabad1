"""The predictive pacer's margins: how much of the abandon budget it may spend, and how fast it learns.

Both depend on what the pacer knows, not on luck tuned into constants:

Caution grows with how little the ledger has seen. After n live answers with x abandons the ledger's rate
x/n estimates the abandon probability p the pacer produces, with standard error sqrt(T(1-T)/n) near the
target T. The pacer keeps a reserve under the target line, in abandons

    reserve(n) = max(1, z * sqrt(n * T * (1 - T))),    headroom = T * n - x,

and dials progressively while the headroom is within it. Holding x <= T n - z sqrt(n T (1-T)) is holding
the normal upper confidence bound on p, x/n + z sqrt(T(1-T)/n), at or under T. As a share of the answers
the reserve, z sqrt(T(1-T)/n), shrinks as the ledger deepens: a young ledger or a small team is cautious
by construction (3 agents: ~470 answers a shift, held under ~2.6%), a large team is held within 0.1% of the
target (50 agents: ~10,000 answers) and uses the budget. The floor of one abandon means the ledger can
always take one more abandon (a call already in flight) and stay under the target: no predictive dialing
before 1/T answers (34), and one abandon then sends a young ledger back to progressive for as long.
Why z is small (0.5, the stop line; 1.0, where the full aim begins): the ledger's count is not an estimate
but the legal record, and the pacer reacts to it within seconds; what the reserve must cover is what it
cannot take back, the calls in flight and a streak of bad luck inside the reaction time, and a standard
error of the count covers a streak of the size that a rate z sqrt(T/n) above target would give. Larger z
costs occupancy (one 4-hour seed, 5 agents at 15%: z = 1 and 2 held the ledger at 0.8%, occupancy 0.70).
Between the two lines the aim scales linearly, so the pacer slows down before the reserve instead of
overshooting it. Past the second line the aim is not raised to spend headroom left unused: a steady
marginal rate buys the most occupancy per abandon (6 seeds, 5 agents at 15%: raising the aim up to 4x on
unused headroom gave 0.710 occupancy at 2.43% abandons, a steady aim 0.727 at 2.34%).

Learning follows the team's pace of answers. The pacer's calibration is a stochastic approximation,
theta -= lr * (abandons - r * answers) / r, toward a set rate r: 93% of the target, but never more than
the slope of the line where the full aim begins (`line_rate`), which a young ledger must follow. With the
realised rate rising about proportionally with exp(theta), a deviation decays with a time constant of 1 / (lr * answers per second). To correct in
`settle_s` whatever the team size, lr = cycle / (staffed * settle_s), `cycle` being one call's talk and
wrap (staffed / cycle answers per second when the agents are busy). Each abandon moves theta by lr / r,
so theta's own noise has variance about lr / (2 r): the rate is capped at 2 r sd^2 so that the aim
never wanders more than `sd` (in log) by luck alone; small teams, with few answers an hour, hit the cap and
learn more slowly rather than chase single abandons.
"""

from __future__ import annotations

import math


def reserve(answered: float, target: float, z: float) -> float:
    """Abandons kept in hand under the target line: z binomial standard deviations of the count, and
    never less than one abandon (the ledger must be able to take one more and stay under the target)."""
    return max(1.0, z * math.sqrt(max(answered, 0.0) * target * (1.0 - target)))


def spend(answered: float, abandoned: float, target: float, z_stop: float, z_full: float) -> float:
    """Share of the aim the ledger allows now: 0 (dial progressively) within the z_stop reserve, 1 (the
    full aim) beyond the z_full one (at least one abandon further down), linear in between."""
    stop = reserve(answered, target, z_stop)
    width = max(1.0, reserve(answered, target, z_full) - stop)
    return min(1.0, max(0.0, (target * answered - abandoned - stop) / width))


def line_rate(answered: float, target: float, z: float) -> float:
    """Abandons per answer that keep the ledger on its line z standard errors under the target (the slope
    of T n - reserve(n)): T - z sqrt(T(1-T)/n) / 2, which reaches the target as the ledger deepens."""
    if answered <= 0:
        return 0.0
    return target - 0.5 * z * math.sqrt(target * (1.0 - target) / answered)


def learning_rate(staffed: int, cycle_s: float, settle_s: float, set_rate: float, theta_sd: float) -> float:
    """Calibration step per live answer: settles in `settle_s`, capped where its noise would exceed `theta_sd`."""
    return min(cycle_s / (max(staffed, 1) * settle_s), 2.0 * set_rate * theta_sd**2)
