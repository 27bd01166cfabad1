"""The strategy report compares a campaign's arms by the arm written on each attempt: hand-counted cases, dials,
conversations and payments, and Welch's interval of the difference."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from campaigns.analytics import arms
from campaigns.reports import run_report
from campaigns.reports.arms import strategy
from campaigns.reports.grouping import Window
from cases import Store
from cases.models import Attempt, Payment, PaymentChannel
from tests.campaigns.assignment_seed import add_case
from tests.compliance.factories import utc


def test_arms_are_counted_from_the_recorded_arm(store: Store) -> None:
    ids = [add_case(store, f"K-{i}") for i in range(40)]
    with store.session() as session:
        for n, account in enumerate(ids):
            arm = arms.CHALLENGER if n % 2 else arms.CHAMPION
            for k in range(2):  # two dials each, the second a conversation
                session.add(Attempt(account_id=account, number_e164="+8613800000000", campaign_id=9, arm=arm,
                                    conversation=k == 1, started_at=utc(2026, 11, 2, 3 + k)))
            session.add(Payment(account_id=account, amount=Decimal(300 if n % 2 else 100) + n,
                                paid_on=date(2026, 11, 5), channel=PaymentChannel.CARD, external_ref=f"k{n}"))
        # not counted: a payment before the first dial, a dial with no arm, one of another campaign outside the window
        session.add(Payment(account_id=ids[0], amount=Decimal(5000), paid_on=date(2026, 11, 1),
                            channel=PaymentChannel.CARD, external_ref="early"))
        session.add(Attempt(account_id=ids[0], number_e164="+8613800000000", campaign_id=9,
                            started_at=utc(2026, 11, 2, 6)))
        session.add(Attempt(account_id=ids[1], number_e164="+8613800000000", campaign_id=8, arm=arms.CHAMPION,
                            started_at=utc(2026, 12, 2, 6)))
    with store.engine.connect() as connection:
        table = strategy(connection, Window(date(2026, 11, 1), date(2026, 11, 30)))
        assert run_report(connection, "strategy", Window(date(2026, 11, 1), date(2026, 11, 30))) == table
        with pytest.raises(ValueError, match="no period or grouping"):
            run_report(connection, "strategy", Window(date(2026, 11, 1), date(2026, 11, 30), by="region"))
    champion, challenger = table.records()
    assert (champion["campaign"], champion["arm"], challenger["arm"]) == (9, arms.CHAMPION, arms.CHALLENGER)
    assert (champion["cases"], champion["dials"], champion["rpc_per_1000_dials"]) == (20, 40, 500.0)
    assert champion["collected"] == Decimal(100 * 20 + sum(range(0, 40, 2)))
    assert challenger["collected"] == Decimal(300 * 20 + sum(range(1, 40, 2)))
    assert champion["difference"] is None
    assert challenger["difference"] == 201.0 and challenger["low"] < 201 < challenger["high"]
    assert challenger["low"] > 0  # significant
