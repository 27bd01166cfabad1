"""Feature rows read from a real case store: history before the date, the 30-day payment label, no feature
that the label's own payments could reach (the balance as it stood, promises settled by then), and no
protected attribute (changing a debtor's birth date changes no feature)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import update

from campaigns.analytics import besttime, extract, features
from cases import Store
from cases.models import (Account, Attempt, AttemptOutcome, Debtor, PaymentChannel, Promise, PromiseStatus,
                          Source)
from cases.payments import apply_payment
from tests.campaigns.test_campaigns import TODAY, seed


def test_rows_hold_history_and_label_and_no_protected_attribute(store: Store) -> None:
    ids = seed(store)
    with store.session() as session:
        for days, status in ((20, PromiseStatus.BROKEN), (5, PromiseStatus.KEPT)):  # the second settled after TODAY
            session.add(Promise(account_id=ids["big"], amount=Decimal("100"), promised_for=TODAY - timedelta(days=days),
                                source=next(iter(Source)), status=status))
        small_account = session.get(Account, ids["small"])
        apply_payment(session, small_account, Decimal("50"), TODAY - timedelta(days=10), PaymentChannel.ALIPAY, "p0",
                      "test")
        apply_payment(session, small_account, Decimal("200"), TODAY + timedelta(days=10), PaymentChannel.ALIPAY, "p1",
                      "test")
        assert small_account.balance == Decimal("250")
    account_ids, rows, labels = extract.rows(store, TODAY)
    by_id = {i: (r, y) for i, r, y in zip(account_ids, rows, labels)}
    big, small = by_id[ids["big"]], by_id[ids["small"]]
    assert big[0]["promises_broken"] == 1 and big[0]["promises_kept"] == 0
    assert big[0]["days_past_due"] == 120 and big[1] == 0
    assert small[0]["payments_90d"] == 1 and small[0]["paid_amount_90d"] == 50.0 and small[1] == 1
    assert small[0]["balance"] == 450.0  # 500 less the 50 paid before TODAY; the 200 after it is the label's
    assert all(set(r) == set(features.FEATURES) for r in rows)
    with store.session() as session:
        session.execute(update(Debtor).values(birth_date=date(1950, 1, 1)))
    assert extract.rows(store, TODAY)[1] == rows


def test_call_history_is_read_in_the_debtors_local_time_and_learnt_per_account(store: Store) -> None:
    from tests.compliance.factories import utc

    ids = seed(store)
    with store.session() as session:
        for day in range(1, 6):  # 11:00 UTC is 19:00 in Beijing: answered; 02:00 UTC (10:00 there): not
            session.add(Attempt(account_id=ids["small"], number_e164="+8613800000011", conversation=True,
                                outcome=AttemptOutcome.ANSWERED, started_at=utc(2026, 11, day, 11)))
            session.add(Attempt(account_id=ids["small"], number_e164="+8613800000011",
                                outcome=AttemptOutcome.NO_ANSWER, started_at=utc(2026, 11, day, 2)))
    history = extract.call_history(store, utc(2026, 11, 1, 0), utc(2026, 11, 28, 0))
    assert history.zones[ids["small"]] == "Asia/Shanghai"
    assert sorted({(o.hour, o.right_party) for o in history.outcomes[ids["small"]]}) == [(10, False), (19, True)]
    curves = besttime.curves(history.outcomes, history.products)  # each product its segment
    monday = 0
    small = curves[ids["small"]]
    mean = sum(small.values()) / len(small)
    assert small[(monday, 19)] > mean > small[(monday, 10)]
    big = curves[ids["big"]]  # never called: its product's curve, learnt from the small debt's calls
    assert big[(monday, 19)] > big[(monday, 10)]
