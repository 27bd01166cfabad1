"""Plan proposals from the debtor's monthly amount, within the creditor's limits; refusals named."""

from datetime import date
from decimal import Decimal

import pytest

from campaigns.repayment import PlanLimits, limits_for, load_limits, propose
from cases.statements import EXAMPLES
from ivr.terms import Refusal

TODAY = date(2026, 1, 31)
LIMITS = load_limits(EXAMPLES / "plan-limits.yaml")
CARD = limits_for(LIMITS, "Acme Bank", "credit_card")


def test_limits_are_data_with_a_creditor_default():
    assert CARD == PlanLimits(12, Decimal("200"), Decimal("500"))
    assert limits_for(LIMITS, "Acme Bank", "auto_loan") == PlanLimits(6, Decimal("300"))
    with pytest.raises(LookupError, match="Other"):
        limits_for(LIMITS, "Other", "credit_card")


def test_down_payment_then_monthly_last_takes_the_rest():
    plan = propose(Decimal("2250.50"), Decimal("600"), CARD, TODAY)
    assert [(i.seq, i.due_date, i.amount) for i in plan] == [
        (1, date(2026, 1, 31), Decimal("500")), (2, date(2026, 2, 28), Decimal("600")),
        (3, date(2026, 3, 31), Decimal("600")), (4, date(2026, 4, 30), Decimal("550.50"))]
    assert sum(i.amount for i in plan) == Decimal("2250.50")


def test_refusals_name_the_field_and_bounds():
    low = propose(Decimal("2000"), Decimal("150"), CARD, TODAY)
    assert low == Refusal("monthly", "the monthly amount must be at least 200", {"minimum": "200"})
    long = propose(Decimal("10500"), Decimal("500"), CARD, TODAY)  # 10000 after the down payment: 20 months
    assert isinstance(long, Refusal) and long.bounds == {"minimum": "833.34", "max_instalments": "12"}
    assert propose(Decimal("10500"), Decimal("833.34"), CARD, TODAY)[-1].seq == 13


def test_small_balance_is_the_down_payment_alone():
    assert [(i.seq, i.amount) for i in propose(Decimal("300"), Decimal("300"), CARD, TODAY)] == [(1, Decimal("300"))]
