"""Promise settlement: the state table is exhaustive, and kept / partly kept / broken follow date + grace."""

from datetime import date, datetime
from decimal import Decimal
from itertools import product

import pytest

from cases.settlement import TRANSITIONS, PromiseState, PromiseTerms, Received, deadline, settle

PROMISE = PromiseTerms(Decimal("500.00"), date(2026, 3, 10))
GRACE = 3  # last day that counts: 2026-03-13


def test_table_covers_every_state_deadline_and_payment():
    assert set(TRANSITIONS) == set(product(PromiseState, (False, True), Received))


@pytest.mark.parametrize(("paid", "at", "expected"), [
    ("0", datetime(2026, 3, 13, 23, 59), PromiseState.PENDING),  # within grace: still open
    ("0", datetime(2026, 3, 14, 0, 0), PromiseState.BROKEN),
    ("200", datetime(2026, 3, 13, 12), PromiseState.PENDING),
    ("200", datetime(2026, 3, 14, 9), PromiseState.PARTLY_KEPT),
    ("500.00", datetime(2026, 3, 1, 9), PromiseState.KEPT),  # paid in full early: kept at once
    ("600", datetime(2026, 4, 1, 9), PromiseState.KEPT),
])
def test_outcome_after_date_plus_grace(paid, at, expected):
    assert settle(PROMISE, Decimal(paid), GRACE, at) is expected


@pytest.mark.parametrize("state", [s for s in PromiseState if s is not PromiseState.PENDING])
def test_settled_states_are_final_and_settling_is_idempotent(state):
    settled = PromiseTerms(PROMISE.amount, PROMISE.promised_for, state)
    for paid in ("0", "200", "500"):
        assert settle(settled, Decimal(paid), GRACE, datetime(2027, 1, 1)) is state
    first = settle(PROMISE, Decimal("0"), GRACE, datetime(2026, 3, 20))
    again = PromiseTerms(PROMISE.amount, PROMISE.promised_for, first)
    assert settle(again, Decimal("500"), GRACE, datetime(2026, 3, 21)) is first is PromiseState.BROKEN


def test_negative_grace_is_refused_by_name():
    with pytest.raises(ValueError, match="grace period"):
        deadline(date(2026, 3, 10), -1)
    assert deadline(date(2026, 3, 10), 0) == date(2026, 3, 10)
