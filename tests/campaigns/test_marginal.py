"""The model-based strategies' expected collected per dial: willingness per conversation derived from the
30-day propensity, updated by the debtor's own conversations, the answer rate at the hour, live promises; and
the empirical-Bayes weight of a prior measured from the units themselves; what a payment comes to."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from campaigns.analytics import service, shrinkage
from campaigns.analytics.extract import Paid
from campaigns.analytics.strategy import (Inputs, dial_now, marginal, payment_size, posterior, score,
                                          willingness)

NOW = datetime(2026, 3, 2, 11, tzinfo=timezone.utc)  # Monday 19:00 in Beijing


def test_willingness_undoes_the_dials_the_model_was_learnt_under():
    # a debtor paying with q per conversation, answering a in 5 dials, pays in 30 days with 1 - (1 - a q)^5
    q, a = 0.3, 0.4
    p30 = 1 - (1 - a * q) ** 5
    assert willingness(p30, 5, a) == pytest.approx(q)
    assert willingness(0.3, 1, 1.0) == pytest.approx(0.3)  # one dial that always reaches: the propensity itself
    assert willingness(0.3, 5, 0.0) == 0.0  # never answers
    assert willingness(0.9, 1, 0.2) == 1.0  # the model and the curve disagree: a probability still, at most 1


def test_posterior_lowers_willingness_with_each_conversation_that_did_not_pay():
    assert posterior(0.2, 4, 0, 0) == pytest.approx(0.2)
    once, twice = posterior(0.2, 4, 1, 0), posterior(0.2, 4, 2, 0)
    assert 0.2 > once > twice
    assert posterior(0.2, 4, 1, 1) > 0.2
    assert posterior(0.2, 4, 1, 3) == posterior(0.2, 4, 1, 1)  # at most one payment per conversation
    assert marginal(0.5, 0.4, 1000) == pytest.approx(200)


def test_score_answers_at_the_hour_and_gains_nothing_under_a_live_promise():
    flat = {(d, h): 0.1 for d in range(7) for h in range(24)}
    curve = {**flat, (0, 19): 0.5}
    inputs = Inputs({1: 0.3, 2: 0.3}, {1: curve, 2: flat}, {1: "Asia/Shanghai", 2: "Asia/Shanghai"},
                    dials_per_account=5, dialled=frozenset((d, h) for d in range(7) for h in range(8, 22)))
    mine = score("propensity_besttime", inputs, 1, Decimal("1000"), 0, NOW)
    assert mine > score("propensity_besttime", inputs, 2, Decimal("1000"), 0, NOW)
    # without the hour the two are worth the same per dial: the same propensity learnt under the same dials
    assert score("propensity", inputs, 1, Decimal("1000"), 0, NOW) == pytest.approx(
        score("propensity", inputs, 2, Decimal("1000"), 0, NOW))
    talked = Inputs(**{**inputs.__dict__, "contacts": {1: (3, 0)}})
    assert score("propensity_besttime", talked, 1, Decimal("1000"), 0, NOW) < mine
    promised = Inputs(**{**inputs.__dict__, "promised": frozenset({1})})
    assert score("propensity_besttime", promised, 1, Decimal("1000"), 0, NOW) == 0.0
    assert score("baseline", promised, 1, Decimal("1000"), 7.0, NOW) == 7.0  # the baseline is left as it was


def test_contacts_count_payments_after_the_first_conversation_at_most_one_each():
    talks = {1: [datetime(2026, 3, 5, 3, tzinfo=timezone.utc), datetime(2026, 3, 9, 3, tzinfo=timezone.utc)],
             2: [datetime(2026, 3, 5, 3, tzinfo=timezone.utc)]}
    paid = {1: [date(2026, 3, 1), date(2026, 3, 5)], 2: [date(2026, 3, 6), date(2026, 3, 7)], 3: [date(2026, 3, 6)]}
    assert service.contacts(talks, paid) == {1: (2, 1), 2: (1, 1)}


def units(spread: float, n: int, tries: int, rnd: random.Random) -> list[tuple[int, int, float]]:
    out = []
    for i in range(n):
        mean = 0.2 + 0.1 * (i % 3)
        p = min(1.0, max(0.0, mean + rnd.uniform(-spread, spread)))
        out.append((sum(rnd.random() < p for _ in range(tries)), tries, mean))
    return out


def test_shrinkage_weight_is_small_when_units_differ_and_large_when_alike():
    rnd = random.Random(3)
    alike = shrinkage.weight(units(0.0, 2000, 4, rnd), 8.0)
    differ = shrinkage.weight(units(0.4, 2000, 4, rnd), 8.0)
    assert differ < 8.0 < alike
    # a Beta(w m, w (1 - m)) population gives back about its w
    beta = [(sum(rnd.random() < p for _ in range(5)), 5, 0.3)
            for p in (rnd.betavariate(0.3 * 4, 0.7 * 4) for _ in range(20000))]
    assert shrinkage.weight(beta, 8.0) == pytest.approx(4, rel=0.25)
    assert shrinkage.weight([(1, 1, 0.3)] * 100, 8.0) == 8.0  # nobody tried twice: the default
    assert shrinkage.weight([(2, 2, 0.3), (0, 2, 0.3)] * 50, 8.0) >= shrinkage.LEAST


def test_sequential_weight_holds_when_calls_stop_on_a_payment():
    # debtors Beta(0.3 w, 0.7 w) with w = 4, called until they pay or 4 conversations: the ones talked to
    # twice or more are those whose first did not pay, so the moments see too little spread
    rnd = random.Random(5)
    units = []
    for p in (rnd.betavariate(0.3 * 4, 0.7 * 4) for _ in range(5000)):
        hits, tries = 0, 0
        while tries < 4 and not hits:
            tries += 1
            hits = int(rnd.random() < p)
        units.append((hits, tries, 0.3))
    assert shrinkage.sequential_weight(units, 8.0) == pytest.approx(4, rel=0.3)
    assert shrinkage.weight(units, 8.0) > 8  # the moments trust the prior twice too much and more
    fixed = [(sum(rnd.random() < p for _ in range(5)), 5, 0.3)
             for p in (rnd.betavariate(0.3 * 4, 0.7 * 4) for _ in range(5000))]
    assert shrinkage.sequential_weight(fixed, 8.0) == pytest.approx(4, rel=0.3)  # and as good on fixed trials
    assert shrinkage.sequential_weight([(1, 1, 0.3)] * 100, 8.0) == 8.0  # nobody tried twice: the default


def test_payment_size_is_what_the_debtor_paid_after_calls_else_the_pooled_share():
    talks = {1: [datetime(2026, 3, 5, 3, tzinfo=timezone.utc)], 2: [datetime(2026, 3, 5, 3, tzinfo=timezone.utc)],
             3: [datetime(2026, 3, 5, 3, tzinfo=timezone.utc)]}
    paid = {1: [Paid(date(2026, 3, 1), 50.0, 1000.0), Paid(date(2026, 3, 5), 300.0, 950.0),
                Paid(date(2026, 3, 9), 100.0, 650.0)],  # the first before any call: not what a call brought
            2: [Paid(date(2026, 3, 6), 150.0, 1000.0)], 4: [Paid(date(2026, 3, 6), 999.0, 999.0)]}
    sizes, share = service.payment_sizes(talks, paid)
    assert sizes == {1: 200.0, 2: 150.0}
    assert share == pytest.approx(550 / 2600)
    assert service.payment_sizes(talks, {}) == ({}, 1.0)  # nothing paid yet: the whole balance
    inputs = Inputs(sizes=sizes, share=share)
    assert payment_size(inputs, 1, 10_000.0) == 200.0
    assert payment_size(inputs, 1, 120.0) == 120.0  # never more than is owed
    assert payment_size(inputs, 3, 2600.0) == pytest.approx(550)
    assert payment_size(Inputs(), 3, 2600.0) == 2600.0


def test_dial_now_keeps_a_debtor_for_a_better_hour_the_rest_would_block():
    assert dial_now(100, [0.2], 2) == pytest.approx(20)  # the day's last hour: what the dial brings
    assert dial_now(100, [None, 0.5], 2) == 0.0  # not dialled now
    # 0.1 now, 0.5 next hour: unanswered, a dial now rests through it and forfeits the difference
    assert dial_now(100, [0.1, 0.5, 0.1], 2) == pytest.approx(100 * (0.1 - 0.4))
    # no hour within the rest is better: the dial's own expected amount
    assert dial_now(100, [0.1, 0.1, 0.1], 2) == pytest.approx(10)
    assert dial_now(100, [0.3, 0.3, None], 2) == pytest.approx(30)
    assert dial_now(100, [0.1, 0.5], 0) == pytest.approx(10)  # no rest: nothing forfeited


def test_best_time_ranks_a_debtor_below_an_equal_one_while_their_better_hour_is_within_the_rest():
    flat = {(d, h): 0.1 for d in range(7) for h in range(24)}
    later = {**flat, (0, 20): 0.5}  # NOW is Monday 19:00 in Beijing
    inputs = Inputs({1: 0.3, 2: 0.3}, {1: later, 2: flat}, {1: "Asia/Shanghai", 2: "Asia/Shanghai"},
                    dials_per_account=5, dialled=frozenset((d, h) for d in range(7) for h in range(8, 22)),
                    rest_hours=2)
    at_seven, at_eight = NOW, NOW + timedelta(hours=1)
    assert score("propensity_besttime", inputs, 1, Decimal("1000"), 0, at_seven) < score(
        "propensity_besttime", inputs, 2, Decimal("1000"), 0, at_seven)
    assert score("propensity_besttime", inputs, 1, Decimal("1000"), 0, at_eight) > score(
        "propensity_besttime", inputs, 2, Decimal("1000"), 0, at_eight)


def test_best_time_scores_the_hour_asked_even_one_the_history_never_dialled():
    curve = {(d, h): 0.2 for d in range(7) for h in range(24)}
    inputs = Inputs({1: 0.3}, {1: curve}, {1: "Asia/Shanghai"}, dials_per_account=5,
                    dialled=frozenset((d, h) for d in range(7) for h in range(8, 19)), rest_hours=2)
    assert score("propensity_besttime", inputs, 1, Decimal("1000"), 0, NOW) > 0  # 19:00 never dialled before
