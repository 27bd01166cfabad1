"""Analytics: propensity model on a synthetic portfolio, protected attributes, best-time profiles, arms."""

from __future__ import annotations

import json
import math
import random
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from campaigns.analytics import arms, besttime, features, profiles, propensity, registry
from campaigns.analytics.strategy import Inputs, score
from campaigns.priority import priority


def portfolio(n: int, seed: int = 7, with_sex: bool = False) -> tuple[list[dict], list[int]]:
    rnd = random.Random(seed)
    rows, labels = [], []
    for _ in range(n):
        kept, broken = rnd.randint(0, 3), rnd.randint(0, 3)
        dpd = rnd.randint(1, 180)
        tried, talked = rnd.randint(0, 20), rnd.randint(0, 5)
        row = {"contact_rate": min(talked, tried) / tried if tried else 0.0, "promises_kept": kept,
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


def test_a_model_without_skill_out_of_fold_scores_near_the_base_rate():
    """Labels unrelated to the features: the fit still spreads its scores over its noise, the recalibration
    out of fold takes that spread away, and on rows it never saw the recalibrated model is the better forecast."""
    rows, _ = portfolio(1200, seed=11)
    rnd = random.Random(5)
    labels = [int(rnd.random() < 0.15) for _ in rows]
    model = propensity.train(rows[:600], labels[:600])
    raw = [1 / (1 + math.exp(-model.logit(r))) for r in rows[600:]]
    scores = [model.score(r) for r in rows[600:]]
    assert model.slope < 0.5
    assert max(scores) - min(scores) < 0.5 * (max(raw) - min(raw))
    assert sum(scores) / len(scores) == pytest.approx(sum(labels[:600]) / 600, abs=0.03)

    def brier(p: list[float]) -> float:
        return sum((q - y) ** 2 for q, y in zip(p, labels[600:])) / len(p)
    assert brier(scores) < brier(raw)


def test_a_model_with_skill_keeps_its_slope_and_explains_the_recalibrated_log_odds():
    rows, labels = portfolio(1200)
    model = propensity.train(rows, labels)
    assert 0.6 < model.slope < 1.5
    row = rows[3]
    parts = sum(value for _, value in model.explain(row))
    log_odds = model.shift + model.slope * model.intercept + parts
    assert 1 / (1 + math.exp(-log_odds)) == pytest.approx(model.score(row))


def test_a_model_saved_before_recalibration_scores_as_it_did(tmp_path):
    rows, labels = portfolio(200)
    path = registry.save(tmp_path, propensity.train(rows, labels), {}, date(2026, 11, 1))
    saved = json.loads((path / "model.json").read_text())
    del saved["slope"], saved["shift"]  # an older version's file
    (path / "model.json").write_text(json.dumps(saved))
    model, _ = registry.load(path)
    assert model.score(rows[0]) == pytest.approx(1 / (1 + math.exp(-model.logit(rows[0]))))


def test_a_model_trained_on_other_features_is_not_used_until_retrained(tmp_path):
    rows, labels = portfolio(200)
    path = registry.save(tmp_path, propensity.train(rows, labels), {}, date(2026, 11, 1))
    assert registry.latest(tmp_path) == path
    metadata = json.loads((path / "metadata.json").read_text())
    metadata["features"] = ["attempts_30d", "contacts_30d", *metadata["features"][1:]]  # an older version's
    (path / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(FileNotFoundError, match="trained on other features.*attempts_30d.*analytics train"):
        registry.latest(tmp_path)


def test_a_row_beyond_the_training_range_scores_as_at_its_edge():
    rows, labels = portfolio(400)
    model = propensity.train(rows, labels)
    most = max(r["promises_kept"] for r in rows)
    edge = {**rows[0], "promises_kept": most}
    beyond = {**edge, "promises_kept": most * 20}  # far more than any training row: no extrapolated certainty
    assert model.score(beyond) == pytest.approx(model.score(edge))
    assert model.score(edge) > model.score({**edge, "promises_kept": 0})  # inside the range the slope still counts


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


def routines(n: int, hours: dict[str, tuple[int, ...]], seed: int = 3) -> dict[int, list[besttime.Outcome]]:
    """`n` debtors per routine, each called 6 times at random hours 8-20 on random weekdays; answering at 0.6 in
    their routine's hours, 0.05 otherwise."""
    rnd = random.Random(seed)
    out = {}
    for kind, good in enumerate(hours.values()):
        for i in range(n):
            calls = [(rnd.randrange(7), rnd.randrange(8, 21)) for _ in range(6)]
            out[kind * n + i] = [besttime.Outcome(d, h, rnd.random() < (0.6 if h in good else 0.05)) for d, h in calls]
    return out


def test_best_time_learns_routines_from_everyones_calls():
    history = routines(150, {"morning": (8, 9, 10), "evening": (18, 19, 20)})
    segments = {a: "card" for a in history} | {999: "card", 1000: "loan"}
    curves = besttime.curves(history, segments)
    monday = 0
    lark = [besttime.Outcome(2, 9, True), besttime.Outcome(3, 19, False), besttime.Outcome(4, 20, False)]
    mine = besttime.curves({**history, 998: lark}, {**segments, 998: "card"})[998]
    assert mine[(monday, 10)] > 0.4 > 0.1 > mine[(monday, 18)]  # three calls pick the routine, other hours too
    never = curves[999]  # never called: the segment's mix of routines
    assert never[(monday, 9)] == pytest.approx(never[(monday, 19)], abs=0.1)
    assert never[(monday, 9)] > 2 * never[(monday, 14)]
    assert 1000 not in curves  # a product never called has no curve


def test_one_routine_is_one_profile_and_weekdays_without_effect_are_ignored():
    history = routines(300, {"daytime": (11, 12, 13, 14)})
    counts = profiles.counts([[(o.hour, o.right_party) for o in calls] for calls in history.values()],
                             ["card"] * len(history))
    assert len(profiles.fit(counts).rates) == 1
    factors = besttime.weekday_factors([o for calls in history.values() for o in calls])
    assert all(f == pytest.approx(1.0, abs=0.15) for (d, h), f in factors.items() if 8 <= h <= 20)


def test_a_weekday_the_debtors_never_answer_on_is_learnt():
    outcomes = [besttime.Outcome(d, h, d != 6 and (d + h) % 2 == 0) for d in range(7) for h in range(8, 21)
                for _ in range(20)]
    factors = besttime.weekday_factors(outcomes)
    assert factors[(6, 12)] < 0.3 < 1.0 < factors[(0, 12)]


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
