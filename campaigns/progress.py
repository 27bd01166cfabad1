"""A case's progress in an agent's work queue, as a state table over what happened to it.

    not contacted -> contacted -> promised -> paying -> paid
                                     any  -> escalated (a dispute, legal, bankruptcy or deceased hold)

The state is derived, never stored: the case's history (attempts, promises, payments, holds, the account
paid off) becomes a time-ordered list of `Event`s, and `replay` folds them through `TRANSITIONS`. Every
(state, event) pair is in the table (a test proves it), so no history can reach a pair nobody decided.
Paid is final; escalated yields only to payments (the debtor pays despite the dispute or the legal step).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


class Progress(enum.StrEnum):
    NOT_CONTACTED = "not_contacted"
    CONTACTED = "contacted"
    PROMISED = "promised"
    PAYING = "paying"
    PAID = "paid"
    ESCALATED = "escalated"


class Event(enum.StrEnum):
    CONTACTED = "contacted"  # a conversation with the debtor (an answered attempt that was a conversation)
    PROMISED = "promised"  # a promise to pay was made
    PROMISE_BROKEN = "promise_broken"
    PAID_PART = "paid_part"  # a payment arrived and a balance remains
    PAID_OFF = "paid_off"  # the account is paid or settled
    ESCALATED = "escalated"  # a hold that takes the case out of ordinary collection


P, E = Progress, Event
TRANSITIONS: dict[tuple[Progress, Event], Progress] = {
    (P.NOT_CONTACTED, E.CONTACTED): P.CONTACTED,
    (P.NOT_CONTACTED, E.PROMISED): P.PROMISED,  # a promise made through the IVR or the web, no agent call
    (P.NOT_CONTACTED, E.PROMISE_BROKEN): P.CONTACTED,  # whoever took that promise had contact
    (P.NOT_CONTACTED, E.PAID_PART): P.PAYING,
    (P.NOT_CONTACTED, E.PAID_OFF): P.PAID,
    (P.NOT_CONTACTED, E.ESCALATED): P.ESCALATED,
    (P.CONTACTED, E.CONTACTED): P.CONTACTED,
    (P.CONTACTED, E.PROMISED): P.PROMISED,
    (P.CONTACTED, E.PROMISE_BROKEN): P.CONTACTED,
    (P.CONTACTED, E.PAID_PART): P.PAYING,
    (P.CONTACTED, E.PAID_OFF): P.PAID,
    (P.CONTACTED, E.ESCALATED): P.ESCALATED,
    (P.PROMISED, E.CONTACTED): P.PROMISED,  # talking again does not undo the promise
    (P.PROMISED, E.PROMISED): P.PROMISED,
    (P.PROMISED, E.PROMISE_BROKEN): P.CONTACTED,
    (P.PROMISED, E.PAID_PART): P.PAYING,
    (P.PROMISED, E.PAID_OFF): P.PAID,
    (P.PROMISED, E.ESCALATED): P.ESCALATED,
    (P.PAYING, E.CONTACTED): P.PAYING,
    (P.PAYING, E.PROMISED): P.PAYING,  # a promise for the next part: still paying
    (P.PAYING, E.PROMISE_BROKEN): P.CONTACTED,  # the payments stopped short of a promise
    (P.PAYING, E.PAID_PART): P.PAYING,
    (P.PAYING, E.PAID_OFF): P.PAID,
    (P.PAYING, E.ESCALATED): P.ESCALATED,
    (P.PAID, E.CONTACTED): P.PAID,
    (P.PAID, E.PROMISED): P.PAID,
    (P.PAID, E.PROMISE_BROKEN): P.PAID,
    (P.PAID, E.PAID_PART): P.PAID,
    (P.PAID, E.PAID_OFF): P.PAID,
    (P.PAID, E.ESCALATED): P.PAID,
    (P.ESCALATED, E.CONTACTED): P.ESCALATED,
    (P.ESCALATED, E.PROMISED): P.ESCALATED,
    (P.ESCALATED, E.PROMISE_BROKEN): P.ESCALATED,
    (P.ESCALATED, E.PAID_PART): P.PAYING,
    (P.ESCALATED, E.PAID_OFF): P.PAID,
    (P.ESCALATED, E.ESCALATED): P.ESCALATED,
}


class IllegalTransition(KeyError):
    """A (state, event) pair missing from `TRANSITIONS`."""


@dataclass(frozen=True)
class Happened:
    at: datetime
    event: Event


def step(state: Progress, event: Event) -> Progress:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(f"no transition from {state.value} on {event.value}") from None


def replay(history: Iterable[Happened]) -> Progress:
    """The progress after `history`, taken in time order (events at one instant in `Event`'s order)."""
    order = list(Event)
    state = Progress.NOT_CONTACTED
    for happened in sorted(history, key=lambda h: (h.at, order.index(h.event))):
        state = step(state, happened.event)
    return state
