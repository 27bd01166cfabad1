"""The terms the IVR and the agent desk share (`ivr.terms`): a promise's bounds, named by the field at fault,
and a plan's monthly schedule that ends on short months' last days and sums to the balance to the cent."""

from datetime import date
from decimal import Decimal

import pytest

from ivr.terms import CampaignTerms, plan_schedule, promise_refusal

TODAY = date(2027, 1, 31)
TERMS = CampaignTerms(min_promise=Decimal("10"), latest_promise_days=30)


@pytest.mark.parametrize(("amount", "day", "field"), [
    ("9.99", date(2027, 2, 1), "amount"), ("1000.01", date(2027, 2, 1), "amount"),
    ("9.99", date(2026, 1, 1), "amount"),  # the amount is named first
    ("50", date(2027, 1, 30), "promised_for"), ("50", date(2027, 3, 3), "promised_for"),
    ("10", TODAY, None), ("1000", date(2027, 3, 2), None)])
def test_a_promise_is_refused_naming_the_field_at_fault(amount: str, day: date, field: str | None) -> None:
    refusal = promise_refusal(Decimal(amount), day, balance=Decimal("1000"), today=TODAY, terms=TERMS)
    assert (refusal.field if refusal else None) == field
    if refusal is not None and field == "promised_for":
        assert refusal.bounds == {"earliest": "2027-01-31", "latest": "2027-03-02"}


def test_a_plan_runs_monthly_from_a_month_on_and_the_last_instalment_takes_the_cents_left() -> None:
    schedule = plan_schedule(Decimal("1000.00"), 3, TODAY)
    assert [(i.seq, i.due_date, i.amount) for i in schedule] == [
        (1, date(2027, 2, 28), Decimal("333.33")), (2, date(2027, 3, 31), Decimal("333.33")),
        (3, date(2027, 4, 30), Decimal("333.34"))]
    assert sum(i.amount for i in plan_schedule(Decimal("1234.57"), 12, TODAY)) == Decimal("1234.57")
    with pytest.raises(ValueError, match="3, 6, 12"):
        plan_schedule(Decimal("100"), 5, TODAY)
