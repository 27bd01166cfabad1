"""Hopper strategies: the campaign option that says how to rank its cases, and the ranking it makes.

A campaign's definition may hold

    {"strategy": "propensity_besttime", "challenger": {"strategy": "baseline", "split": 0.2}}

- baseline: `campaigns.priority.priority` (days past due times balance), the hopper's default;
- propensity: expected collected per dial (`marginal`), the debtor's willingness per conversation times how
  often they answer on average times what they would pay (`payment_size`: what they paid after earlier calls,
  else the pooled share of the balance that payments after calls came to);
- propensity + best time: the same with how often they answer at this local hour (besttime curve), less what
  the dial forfeits when one of the hours an unanswered call rests them through (the hopper's recycle)
  answers better (`dial_now`): a debtor is not dialled off-peak into the rest that covers their best hour.
Willingness per conversation is derived, not tuned: the model's 30-day propensity was learnt under some number
of dials per account (`Inputs.dials_per_account`), so one dial pays 1 - (1 - p)^(1/dials); divided by the
debtor's usual answer rate that is their chance to pay once reached, the prior of a beta posterior updated by
their own conversations since the model's date and the payments that followed (each conversation without a
payment lowers it, a repeated call is worth less unless it paid), with the weight `Inputs.strength` estimated
from the store by likelihood (campaigns.analytics.shrinkage.sequential_weight). A case with a live promise not
yet due gains nothing from a call (score 0).
With a challenger, each case goes to one arm by a stable hash (`arms.arm`, `split` the challenger's share)
and is scored by its arm's strategy; the arm is recorded on every attempt so reports can compare them.
Scores only reorder the cases the hopper found; the gate still decides every lead (caps, windows, holds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from campaigns.analytics import arms, besttime
from campaigns.errors import InvalidCampaign
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
    # account -> (right-party conversations, payments that followed them) in the history window
    contacts: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    promised: frozenset[int] = frozenset()  # accounts with a promise not yet due
    dialled: frozenset[besttime.Cell] = frozenset()  # the cells the history dialled (none known: all 168)
    dials_per_account: float = 1.0  # dials per account in the model's 30-day label window
    strength: float = besttime.PRIOR_WEIGHT  # the willingness prior's weight in conversations, until measured
    sizes: Mapping[int, float] = field(default_factory=dict)  # account -> its mean payment after its calls
    share: float = 1.0  # a payment after a call as a share of the balance owed, pooled (none seen: all of it)
    rest_hours: int = 0  # whole hours after the one dialled in that an unanswered case rests (the hopper's recycle)


def willingness(propensity: float, dials: float, answer_rate: float) -> float:
    """A debtor's chance to pay once reached, from a 30-day propensity learnt under `dials` dials per account
    and the debtor's usual chance to answer a dial, at most 1: it is the mean of the beta prior the debtor's
    own conversations update, and a mean above 1 (the model and the curve disagreeing) would outweigh any
    number of conversations that did not pay and make the prior's measured weight meaningless."""
    per_dial = 1 - (1 - min(propensity, 1.0)) ** (1 / dials) if dials > 0 else propensity
    return min(1.0, per_dial / answer_rate) if answer_rate > 0 else 0.0


def posterior(prior: float, strength: float, contacts: int, paid: int) -> float:
    """The beta posterior mean of willingness after `contacts` conversations of which `paid` led to a payment."""
    return (min(paid, contacts) + strength * prior) / (contacts + strength)


def marginal(willing: float, answer_rate: float, amount: float) -> float:
    """Expected amount one dial collects: the debtor answers, then pays the amount."""
    return answer_rate * willing * amount


def payment_size(inputs: Inputs, account_id: int, balance: float) -> float:
    """What the debtor would pay once reached and willing: what they paid after earlier calls, else the pooled
    share of what they owe; never more than the balance. Debts are spread over orders of magnitude and a
    debtor pays a share of one, so the balance alone overstates what a debtor who already paid part of it
    (and will pay in like instalments) brings next."""
    return min(balance, inputs.sizes.get(account_id, inputs.share * balance))


def answer_rate(inputs: Inputs, account_id: int) -> float:
    """The debtor's usual chance to answer a dial: their curve's mean over the cells dialled (no curve: 1, every
    dial reaches them as far as the score can tell)."""
    curve = inputs.curves.get(account_id)
    if curve is None:
        return 1.0
    cells = inputs.dialled or curve.keys()
    return sum(curve[c] for c in cells) / len(cells)


def prior_willingness(inputs: Inputs, account_id: int) -> float:
    """The debtor's willingness per conversation as the propensity model sees it, before their own conversations."""
    return willingness(inputs.propensity.get(account_id, 0.0), inputs.dials_per_account,
                       answer_rate(inputs, account_id))


def reached(inputs: Inputs, account_id: int, balance: float) -> float:
    """Expected amount a conversation with the debtor collects: their willingness after their own conversations
    times what they would pay."""
    contacts, paid = inputs.contacts.get(account_id, (0, 0))
    return posterior(prior_willingness(inputs, account_id), inputs.strength, contacts, paid) * payment_size(
        inputs, account_id, balance)


def rate_at(inputs: Inputs, account_id: int, at: datetime) -> float | None:
    """The debtor's chance to answer a dial at `at` (None: an hour the floor does not dial them in)."""
    there = local(at, inputs.zones.get(account_id, "UTC"))
    cell = (there.weekday(), there.hour)
    return inputs.curves[account_id][cell] if not inputs.dialled or cell in inputs.dialled else None


def today(inputs: Inputs, account_id: int, now: datetime, hours: int) -> list[float | None]:
    """The debtor's chance to answer now and in each of the next `hours` - 1 hours that fall on their local day
    (None: a later hour the floor does not dial them in; now is always theirs, as the hopper asked)."""
    zone = inputs.zones.get(account_id, "UTC")
    here = local(now, zone)
    ahead = [now + timedelta(hours=k) for k in range(1, hours)]
    return [inputs.curves[account_id][(here.weekday(), here.hour)]] + [
        rate_at(inputs, account_id, at) for at in ahead if local(at, zone).date() == here.date()]


def dial_now(value: float, rates: Sequence[float | None], rest: int) -> float:
    """What a dial now brings, less what it forfeits: unanswered, the debtor rests through the next `rest`
    hours, so if one of those hours answers better, dialling now instead of then loses the difference. A
    debtor whose better hour is about to come waits for it; one whom no hour within the rest beats is worth
    their expected amount now."""
    now = rates[0] if rates else None
    if now is None:
        return 0.0
    better = max((r for r in rates[1:1 + rest] if r is not None), default=0.0)
    return value * (now - max(0.0, better - now))


def score(strategy: str, inputs: Inputs, account_id: int, balance: Decimal, base: float, now: datetime) -> float:
    """A case's score under `strategy` at `now`; `base` is its baseline priority."""
    if strategy == "baseline":
        return base
    if account_id in inputs.promised:
        return 0.0
    value = reached(inputs, account_id, float(balance))
    if strategy == "propensity_besttime" and account_id in inputs.curves:
        return dial_now(value, today(inputs, account_id, now, 1 + inputs.rest_hours), inputs.rest_hours)
    return marginal(value, answer_rate(inputs, account_id), 1.0)


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
