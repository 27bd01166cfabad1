"""Train, store and explain the propensity model from the case store (what `dunline analytics` calls), and the
ranking a campaign's strategy option makes with the latest model (what the hopper is given)."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from campaigns.analytics import arms, besttime, extract, propensity, registry, shrinkage, strategy
from campaigns.analytics.strategy import Inputs, Plan, Ranking
from campaigns.hopper import RECYCLE_AFTER
from cases import Store
from cases.audit import record
from cases.models import AttemptOutcome, Campaign

log = logging.getLogger(__name__)

HOLDOUT_SEED = "propensity-holdout"  # a third of the accounts, stable by id, are kept out of training


def train(store: Store, data_dir: Path, as_of: date) -> tuple[Path, dict[str, object]]:
    """Fit on accounts' history up to `as_of` (labels: paid within 30 days after), evaluate on the holdout."""
    ids, rows, labels = extract.rows(store, as_of)
    held = [arms.arm(i, HOLDOUT_SEED, 1 / 3) == arms.CHALLENGER for i in ids]
    fit = [(r, y) for r, y, h in zip(rows, labels, held) if not h]
    test = [(r, y) for r, y, h in zip(rows, labels, held) if h]
    if len({y for _, y in fit}) < 2 or len({y for _, y in test}) < 2:
        raise ValueError(f"as of {as_of} the store needs payers and non-payers in both training and holdout "
                         f"({len(fit)} and {len(test)} accounts)")
    model = propensity.train([r for r, _ in fit], [y for _, y in fit])
    evaluation = {**propensity.evaluate(model, [r for r, _ in test], [y for _, y in test]),
                  "dials_per_account": extract.dials_per_account(store, as_of + timedelta(days=1),
                                                                 as_of + timedelta(days=1 + extract.LABEL_DAYS))}
    return registry.save(data_dir, model, evaluation, as_of), evaluation


def explain(store: Store, data_dir: Path, account_id: int, as_of: date) -> tuple[float, list[tuple[str, float]]]:
    model, _ = registry.load(registry.latest(data_dir))
    ids, rows, _ = extract.rows(store, as_of)
    if account_id not in ids:
        raise ValueError(f"no account {account_id}")
    row = rows[ids.index(account_id)]
    return model.score(row), model.explain(row)


HISTORY = timedelta(days=90)  # the calls best time learns from
# An unanswered case rests this many whole hours after the one it was dialled in (its calls fall anywhere in
# that hour): best time weighs a dial now against the hours it blocks.
REST_HOURS = math.ceil(RECYCLE_AFTER[AttemptOutcome.NO_ANSWER] / timedelta(hours=1))


class StoreInputs:
    """The model-based strategies' inputs read from the case store and the latest model, once per day (UTC):
    propensity of every account from its features as of the model's own date, the rows it was trained on (the
    model's knowledge, `Inputs.propensity`: it never scores features drawn from a longer history or another
    calling regime than it learnt from), the conversations and payments since then (the evidence the strategy
    updates it with, so no outcome counts twice) and what the payments after calls came to, best-time curves
    from the calls of the 90 days before (answering profiles, each debtor's mix from their own calls and their
    product's), and the hours the hopper rests an unanswered case. No model yet: every propensity is 0 (the
    cases keep their store order) and the campaign's log says so."""

    def __init__(self, store: Store, data_dir: Path) -> None:
        self.store, self.data_dir = store, data_dir
        self._day: date | None = None
        self._inputs = Inputs()
        self._scores: tuple[Path, dict[int, float]] | None = None

    def __call__(self, now: datetime) -> Inputs:
        if self._day != now.date():
            self._inputs, self._day = self.load(now), now.date()
        return self._inputs

    def load(self, now: datetime) -> Inputs:
        try:
            path = registry.latest(self.data_dir)
        except FileNotFoundError as error:
            log.warning("propensity strategy without a model: %s", error)
            path = None
        scores: dict[int, float] = {}
        evaluation: Mapping[str, object] = {}
        since = now - HISTORY
        if path is not None:
            model, evaluation = registry.load(path)
            made = min(registry.as_of(path), now.date())
            if self._scores is None or self._scores[0] != path:
                ids, rows, _ = extract.rows(self.store, made)
                self._scores = path, dict(zip(ids, (model.score(row) for row in rows)))
            scores = self._scores[1]
            since = datetime.combine(made, time(), timezone.utc)
        history = extract.call_history(self.store, now - HISTORY, now)
        dials = float(evaluation.get("dials_per_account") or 1.0)  # type: ignore[arg-type]  # older models: 1
        talks = extract.conversations(self.store, since, now)
        paid = extract.payments(self.store, since.date())
        sizes, share = payment_sizes(talks, paid)
        inputs = Inputs(scores, besttime.curves(history.outcomes, history.products), history.zones,
                        contacts(talks, {a: [p.day for p in ps] for a, ps in paid.items()}),
                        extract.promised(self.store, now.date()),
                        frozenset((o.weekday, o.hour) for outcomes in history.outcomes.values() for o in outcomes),
                        dials, sizes=sizes, share=share)
        units = ((paid, n, strategy.prior_willingness(inputs, a)) for a, (n, paid) in inputs.contacts.items())
        inputs = replace(inputs, strength=shrinkage.sequential_weight(units, besttime.PRIOR_WEIGHT))
        return replace(inputs, rest_hours=REST_HOURS)


def contacts(conversations: Mapping[int, list[datetime]], payments: Mapping[int, list[date]]
             ) -> dict[int, tuple[int, int]]:
    """Each account's (conversations, payments that followed them): payments on or after its first
    conversation's day, at most one per conversation."""
    out = {}
    for account_id, talks in conversations.items():
        first = talks[0].date()
        paid = sum(1 for day in payments.get(account_id, ()) if day >= first)
        out[account_id] = (len(talks), min(paid, len(talks)))
    return out


def payment_sizes(conversations: Mapping[int, list[datetime]], payments: Mapping[int, list[extract.Paid]]
                  ) -> tuple[dict[int, float], float]:
    """What a payment after a call comes to: each account's mean over its own payments on or after its first
    conversation's day, and pooled over the accounts as a share of the balance owed before each (1 while
    none is known: the whole balance)."""
    own, amount, owed = {}, 0.0, 0.0
    for account_id, talks in conversations.items():
        after = [p for p in payments.get(account_id, ()) if p.day >= talks[0].date()]
        if after:
            own[account_id] = sum(p.amount for p in after) / len(after)
            amount += sum(p.amount for p in after)
            owed += sum(p.owed for p in after)
    return own, amount / owed if owed > 0 else 1.0


def set_plan(session: Session, campaign: Campaign, plan: Plan, *, actor: str) -> None:
    """Store a campaign's strategy option in its definition, audited with the one it replaces."""
    before = Plan.from_definition(campaign.definition)
    campaign.definition = {**campaign.definition, **plan.to_json()}  # a new dict: the JSON column sees the change
    record(session, actor=actor, action="campaign.strategy", entity="campaign", entity_id=campaign.id,
           details={"from": before.to_json(), "to": plan.to_json()})


def ranking_for(store: Store, data_dir: Path, campaign_id: int, definition: Mapping[str, Any]) -> Ranking:
    """The hopper's ranking for a campaign: its strategy option (campaigns.analytics.strategy.Plan), split by
    the campaign's arm seed, its inputs read from the store when a strategy needs them."""
    return Ranking(Plan.from_definition(definition), arm_seed(campaign_id), StoreInputs(store, data_dir))


def arm_seed(campaign_id: int) -> str:
    """The champion/challenger seed of a campaign: its cases' arms are `arms.arm(account, seed, split)`."""
    return f"campaign-{campaign_id}"
