"""Promise settlement: whether a promise to pay was kept, partly kept or broken, as of an injected instant.

A promise is settled once its date plus a grace period has passed (the grace comes from the rule pack or a
setting, never from here), or as soon as it is paid in full. Settled states are final, so settling again, at
the same or any later instant, changes nothing: the job is idempotent. The decision is the table `TRANSITIONS`,
keyed by (state, deadline passed?, payment received); every key is present (see the exhaustive test).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal


class PromiseState(enum.StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    PARTLY_KEPT = "partly_kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class Received(enum.StrEnum):
    NOTHING = "nothing"
    PART = "part"
    ALL = "all"


_S, _R = PromiseState, Received
_FINAL = (_S.KEPT, _S.PARTLY_KEPT, _S.BROKEN, _S.CANCELLED)

# (state, deadline passed, received) -> new state
TRANSITIONS: dict[tuple[PromiseState, bool, Received], PromiseState] = {
    (_S.PENDING, False, _R.NOTHING): _S.PENDING,
    (_S.PENDING, False, _R.PART): _S.PENDING,
    (_S.PENDING, False, _R.ALL): _S.KEPT,
    (_S.PENDING, True, _R.NOTHING): _S.BROKEN,
    (_S.PENDING, True, _R.PART): _S.PARTLY_KEPT,
    (_S.PENDING, True, _R.ALL): _S.KEPT,
    **{(state, passed, received): state for state in _FINAL for passed in (False, True) for received in _R},
}


@dataclass(frozen=True)
class PromiseTerms:
    amount: Decimal
    promised_for: date
    state: PromiseState = PromiseState.PENDING


def received(amount: Decimal, paid: Decimal) -> Received:
    if paid >= amount:
        return Received.ALL
    return Received.PART if paid > 0 else Received.NOTHING


def deadline(promised_for: date, grace_days: int) -> date:
    """The last day a payment still keeps the promise."""
    if grace_days < 0:
        raise ValueError(f"grace period must not be negative, got {grace_days} day(s)")
    return promised_for + timedelta(days=grace_days)


def settle(promise: PromiseTerms, paid: Decimal, grace_days: int, at: datetime) -> PromiseState:
    """The promise's state as of `at`, given what was paid towards it by then (dates are the account's local
    dates; `at` must already be in that time zone)."""
    passed = at.date() > deadline(promise.promised_for, grace_days)
    return TRANSITIONS[(promise.state, passed, received(promise.amount, paid))]
