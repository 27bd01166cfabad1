"""Train, store and explain the propensity model from the case store (what `dunline analytics` calls)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from campaigns.analytics import arms, extract, propensity, registry
from cases import Store

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
    evaluation = propensity.evaluate(model, [r for r, _ in test], [y for _, y in test])
    return registry.save(data_dir, model, evaluation, as_of), evaluation


def explain(store: Store, data_dir: Path, account_id: int, as_of: date) -> tuple[float, list[tuple[str, float]]]:
    model, _ = registry.load(registry.latest(data_dir))
    ids, rows, _ = extract.rows(store, as_of)
    if account_id not in ids:
        raise ValueError(f"no account {account_id}")
    row = rows[ids.index(account_id)]
    return model.score(row), model.explain(row)


def arm_seed(campaign_id: int) -> str:
    """The champion/challenger seed of a campaign (strategy.split and compare use the same)."""
    return f"campaign-{campaign_id}"


def compare(store: Store, campaign_id: int) -> arms.Comparison:
    """Collected per case of each arm, over the accounts the campaign attempted (payments on or after their
    first attempt), with Welch's 95% interval of the difference."""
    from sqlalchemy import func, select

    from cases.models import Attempt, Payment

    with store.session() as session:
        first = dict(session.execute(select(Attempt.account_id, func.min(Attempt.started_at))
                                     .where(Attempt.campaign_id == campaign_id).group_by(Attempt.account_id)).all())
        paid = session.execute(select(Payment.account_id, Payment.amount, Payment.paid_on)
                               .where(Payment.account_id.in_(first))).all()
    total = dict.fromkeys(first, 0.0)
    for p in paid:
        if p.paid_on >= first[p.account_id].date():
            total[p.account_id] += float(p.amount)
    split: dict[str, list[float]] = {arms.CHAMPION: [], arms.CHALLENGER: []}
    for account_id, amount in total.items():
        split[arms.arm(account_id, arm_seed(campaign_id))].append(amount)
    return arms.compare(split[arms.CHAMPION], split[arms.CHALLENGER])
