"""Analytics: propensity model on a synthetic portfolio, protected attributes, best-time shrinkage, arms."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from campaigns.analytics import arms, besttime, features, propensity
from campaigns.analytics.strategy import Inputs, score
from campaigns.priority import priority


def portfolio(n: int, seed: int = 7, with_sex: bool = False) -> tuple[list[dict], list[int]]:
    rnd = random.Random(seed)
    rows, labels = [], []
    for _ in range(n):
        kept, broken = rnd.randint(0, 3), rnd.randint(0, 3)
        dpd = rnd.randint(1, 180)
        row = {"attempts_30d": rnd.randint(0, 20), "contacts_30d": rnd.randint(0, 5), "promises_kept": kept,
               "promises_broken": broken, "payments_90d": rnd.randint(0, 3), "paid_amount_90d": rnd.random() * 500,
               "days_past_due": dpd, "balance": rnd.random() * 10000, "product": rnd.choice(["card", "loan"]),
               "region": rnd.choice(["north", "south"])}
        if with_sex:
            row["sex"] = rnd.choice(["f", "m"])
        z = -0.5 + 0.8 * kept - 0.6 * broken - dpd / 60
        labels.append(int(rnd.random() < 1 / (1 + pow(2.718281828, -z))))
        rows.append(row)
    return rows, labels


def test_trained_model_ranks_payers_and_is_evaluated_and_explained():
    rows, labels = portfolio(1200)
    model = propensity.train(rows[:800], labels[:800])
    report = propensity.evaluate(model, rows[800:], labels[800:])
    assert report["auc"] > 0.75
    assert report["brier"] < 0.2
    assert len(report["lift_by_decile"]) == 10 and report["lift_by_decile"][0] > report["lift_by_decile"][-1]
    assert sum(c["n"] for c in report["calibration"]) == 400
    top = [name for name, _ in model.explain(rows[0])[:3]]
    assert {"promises_kept", "promises_broken", "days_past_due"} & set(top)


def test_protected_attributes_are_refused_and_ignored():
    with pytest.raises(features.ProtectedFeature, match="sex"):
        features.check_features([*features.FEATURES, "sex"])
    assert not set(features.FEATURES) & features.PROTECTED
    rows, labels = portfolio(300, with_sex=True)
    assert all("sex" not in r for r in features.frame(rows))
    model = propensity.train(rows, labels)
    assert not any(c.startswith("sex") for c in model.columns)
    flipped = [{**r, "sex": "m" if r["sex"] == "f" else "f"} for r in rows]
    assert [model.score(r) for r in rows] == [model.score(r) for r in flipped]


def test_missing_feature_names_the_row():
    rows, _ = portfolio(3)
    del rows[2]["balance"]
    with pytest.raises(ValueError, match="row 2: missing feature.*balance"):
        features.frame(rows)


def test_best_time_shrinks_toward_segment():
    segment = [besttime.Outcome(0, 10, i % 2 == 0) for i in range(200)]
    segment += [besttime.Outcome(0, 20, i % 10 == 0) for i in range(200)]
    curve = besttime.segment_curve(segment)
    assert besttime.rates([], curve) == curve  # no history: the segment's curve
    own = [besttime.Outcome(0, 20, True) for _ in range(40)]
    mine = besttime.rates(own, curve)
    assert mine[(0, 20)] > 0.8 > curve[(0, 20)]
    few = besttime.rates(own[:2], curve)
    assert curve[(0, 20)] < few[(0, 20)] < 0.5  # two calls move the estimate only a little
    mean = sum(curve.values()) / len(curve)
    assert curve[(0, 10)] > mean > curve[(3, 3)]


def test_arms_are_stable_and_even():
    split = [arms.arm(i, "camp-7") for i in range(10000)]
    assert split == [arms.arm(i, "camp-7") for i in range(10000)]
    assert 0.47 < split.count(arms.CHALLENGER) / len(split) < 0.53
    assert split != [arms.arm(i, "camp-8") for i in range(10000)]


def test_compare_gives_welch_interval():
    rnd = random.Random(3)
    a = [rnd.gauss(100, 20) for _ in range(400)]
    b = [rnd.gauss(110, 40) for _ in range(400)]
    c = arms.compare(a, b)
    assert c.low < 10 < c.high and c.significant
    assert not arms.compare(a, [x + 0.1 for x in a]).significant
    with pytest.raises(ValueError, match="challenger arm has 1"):
        arms.compare(a, [1.0])


def test_strategies_rank_differently():
    # baseline favours the old large debt; expected collected favours the likely payer
    now = datetime(2026, 3, 2, 11, tzinfo=timezone.utc)  # 19:00 in Beijing, a Monday
    inputs = Inputs({1: 0.02, 2: 0.6})
    old_big = priority(170, Decimal("9000"), 0, False), score("propensity", inputs, 1, Decimal("9000"), 0, now)
    fresh_payer = priority(10, Decimal("3000"), 0, False), score("propensity", inputs, 2, Decimal("3000"), 0, now)
    assert old_big[0] > fresh_payer[0] and old_big[1] < fresh_payer[1]
    flat = {(d, h): 0.2 for d in range(7) for h in range(24)}
    answers_now = Inputs({2: 0.6}, {2: {**flat, (0, 19): 0.6}}, {2: "Asia/Shanghai"})
    assert (score("propensity_besttime", answers_now, 2, Decimal("3000"), 0, now)
            > score("propensity", answers_now, 2, Decimal("3000"), 0, now))  # 19:00 is their hour


def test_best_time_learns_the_hour_from_other_weekdays():
    flat = besttime.segment_curve([besttime.Outcome(d, h, h % 3 == 0) for d in range(7) for h in range(8, 22)
                                   for _ in range(3)])
    evenings = [besttime.Outcome(d, 19, True) for d in range(1, 7)] + [besttime.Outcome(d, 10, False) for d in range(7)]
    mine = besttime.rates(evenings, flat)
    assert mine[(0, 19)] > 2 * flat[(0, 19)]  # never called on a Monday at 19:00, yet it is their hour
    assert mine[(0, 10)] < flat[(0, 10)]
    assert mine[(0, 19)] > mine[(0, 10)]
