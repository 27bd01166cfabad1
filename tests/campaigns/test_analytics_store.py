"""Feature rows read from a real case store: history before the date, the 30-day payment label, and no
protected attribute (changing a debtor's birth date changes no feature)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import update

from campaigns.analytics import arms, extract, features, service
from cases import Store
from cases.models import Attempt, Debtor, Payment, PaymentChannel, Promise, PromiseStatus, Source
from tests.campaigns.test_campaigns import TODAY, seed


def test_rows_hold_history_and_label_and_no_protected_attribute(store: Store) -> None:
    ids = seed(store)
    with store.session() as session:
        session.add(Promise(account_id=ids["big"], amount=Decimal("100"), promised_for=TODAY - timedelta(days=5),
                            source=next(iter(Source)), status=PromiseStatus.BROKEN))
        session.add(Payment(account_id=ids["small"], amount=Decimal("200"), paid_on=TODAY + timedelta(days=10),
                            channel=PaymentChannel.ALIPAY, external_ref="p1"))
        session.add(Payment(account_id=ids["small"], amount=Decimal("50"), paid_on=TODAY - timedelta(days=10),
                            channel=PaymentChannel.ALIPAY, external_ref="p0"))
    account_ids, rows, labels = extract.rows(store, TODAY)
    by_id = {i: (r, y) for i, r, y in zip(account_ids, rows, labels)}
    big, small = by_id[ids["big"]], by_id[ids["small"]]
    assert big[0]["promises_broken"] == 1 and big[0]["days_past_due"] == 120 and big[1] == 0
    assert small[0]["payments_90d"] == 1 and small[0]["paid_amount_90d"] == 50.0 and small[1] == 1
    assert all(set(r) == set(features.FEATURES) for r in rows)
    with store.session() as session:
        session.execute(update(Debtor).values(birth_date=date(1950, 1, 1)))
    assert extract.rows(store, TODAY)[1] == rows


def test_compare_splits_a_campaigns_cases_by_arm(store: Store) -> None:
    from tests.campaigns.assignment_seed import add_case
    from tests.compliance.factories import utc

    ids = [add_case(store, f"K-{i}") for i in range(40)]
    with store.session() as session:
        for n, account in enumerate(ids):
            session.add(Attempt(account_id=account, number_e164="+8613800000000", campaign_id=9,
                                started_at=utc(2026, 11, 2, 3)))
            challenger = arms.arm(account, service.arm_seed(9)) == arms.CHALLENGER
            session.add(Payment(account_id=account, amount=Decimal(300 if challenger else 100) + n,
                                paid_on=date(2026, 11, 5), channel=PaymentChannel.CARD, external_ref=f"k{n}"))
    result = service.compare(store, 9)
    assert 150 < result.difference < 250 and result.significant
