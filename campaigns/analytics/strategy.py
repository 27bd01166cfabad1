"""Hopper strategies: the campaign option that says how to rank its cases, and the ranking it makes.

A campaign's definition may hold

    {"strategy": "propensity_besttime", "challenger": {"strategy": "baseline", "split": 0.2}}

- baseline: `campaigns.priority.priority` (days past due times balance), the hopper's default;
- propensity: expected collected per call, propensity to pay times balance;
- propensity + best time: the same, times how likely the debtor is to answer at this local hour relative to
  their usual (besttime.weight).
With a challenger, each case goes to one arm by a stable hash (`arms.arm`, `split` the challenger's share)
and is scored by its arm's strategy; the arm is recorded on every attempt so reports can compare them.
Scores only reorder the cases the hopper found; the gate still decides every lead (caps, windows, holds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from campaigns.analytics import arms, besttime
from campaigns.errors import InvalidCampaign
from campaigns.priority import expected_collected
from compliance.localtime import local

STRATEGIES = ("baseline", "propensity", "propensity_besttime")
DEFAULT = "baseline"


@dataclass(frozen=True)
class Plan:
    """A campaign's strategy option: its (champion) strategy and an optional challenger with its share."""

    strategy: str = DEFAULT
    challenger: str | None = None
    split: float = 0.5  # the challenger arm's share of the cases

    def __post_init__(self) -> None:
        for name, value in (("strategy", self.strategy), ("challenger.strategy", self.challenger)):
            if value is not None and value not in STRATEGIES:
                raise InvalidCampaign(name, f"unknown strategy {value!r}; known: {', '.join(STRATEGIES)}")
        if self.challenger is not None:
            if not 0 < self.split < 1:
                raise InvalidCampaign("challenger.split", f"split must be between 0 and 1 exclusive, not {self.split}")
            if self.challenger == self.strategy:
                raise InvalidCampaign("challenger.strategy",
                                      f"the challenger must differ from the champion ({self.strategy!r})")

    def strategy_of(self, arm: str) -> str:
        return self.challenger if arm == arms.CHALLENGER and self.challenger is not None else self.strategy

    def to_json(self) -> dict[str, Any]:
        """The keys this option holds in a campaign's definition."""
        return {"strategy": self.strategy,
                "challenger": {"strategy": self.challenger, "split": self.split} if self.challenger else None}

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> Plan:
        """The plan a campaign's definition holds (none: baseline); a malformed one names its field."""
        challenger = definition.get("challenger")
        if challenger is not None and not isinstance(challenger, Mapping):
            raise InvalidCampaign("challenger", f"challenger must be an object with strategy and split, "
                                                f"not {challenger!r}")
        try:
            split = float((challenger or {}).get("split", 0.5))
        except (TypeError, ValueError):
            raise InvalidCampaign("challenger.split", f"split must be a number, not {challenger['split']!r}") from None
        if challenger is not None and "strategy" not in challenger:
            raise InvalidCampaign("challenger.strategy", "a challenger needs a strategy")
        return cls(definition.get("strategy") or DEFAULT, challenger["strategy"] if challenger else None, split)


@dataclass(frozen=True)
class Inputs:
    """What the model-based strategies know of the cases on a day (campaigns.analytics.service reads them)."""

    propensity: Mapping[int, float] = field(default_factory=dict)  # account -> p(pays within 30 days)
    curves: Mapping[int, Mapping[besttime.Cell, float]] = field(default_factory=dict)  # account -> RPC by cell
    zones: Mapping[int, str] = field(default_factory=dict)  # account -> the debtor's time zone


def score(strategy: str, inputs: Inputs, account_id: int, balance: Decimal, base: float, now: datetime) -> float:
    """A case's score under `strategy` at `now`; `base` is its baseline priority."""
    if strategy == "baseline":
        return base
    weight = 1.0
    if strategy == "propensity_besttime" and account_id in inputs.curves:
        here = local(now, inputs.zones.get(account_id, "UTC"))
        weight = besttime.weight(inputs.curves[account_id], here.weekday(), here.hour)
    return expected_collected(inputs.propensity.get(account_id, 0.0), balance, weight)


class Ranking:
    """A campaign's plan applied (the hopper's `Ranking`): each case's arm, and its score at an instant.
    `inputs(now)` is asked only when a model-based strategy scores, so a baseline campaign needs no model."""

    def __init__(self, plan: Plan, seed: str, inputs: Callable[[datetime], Inputs] = lambda now: Inputs()) -> None:
        self.plan, self.seed, self.inputs = plan, seed, inputs

    def arm(self, account_id: int) -> str:
        if self.plan.challenger is None:
            return arms.CHAMPION
        return arms.arm(account_id, self.seed, self.plan.split)

    def score(self, account_id: int, balance: Decimal, base: float, now: datetime) -> float:
        strategy = self.plan.strategy_of(self.arm(account_id))
        inputs = Inputs() if strategy == "baseline" else self.inputs(now)
        return score(strategy, inputs, account_id, balance, base, now)
