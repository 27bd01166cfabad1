"""A message's delivery state, as a table: queued → submitted → delivered / failed / expired.

`step(state, event)` returns the next state or raises `IllegalTransition` for a pair the table neither handles
nor ignores; `tests/messaging/test_delivery.py` proves every (state, event) pair is one or the other. The final
states ignore late or repeated news (an SMSC may send a receipt twice); a receipt for a message not yet
submitted is a bug (its provider id is only known once submitted) and raises.
"""

from __future__ import annotations

import enum


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"  # the attempt row exists with its receipt; not handed to the carrier yet
    SUBMITTED = "submitted"  # the SMSC (or mail server) accepted it and named it
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"


class DeliveryEvent(enum.StrEnum):
    ACCEPTED = "accepted"  # submit_sm_resp OK, or the SMTP server's 250
    REJECTED = "rejected"  # an error response, or it could not be sent at all
    RECEIPT_ENROUTE = "receipt_enroute"  # an intermediate receipt (ACCEPTD, ENROUTE)
    RECEIPT_DELIVERED = "receipt_delivered"
    RECEIPT_FAILED = "receipt_failed"  # UNDELIV, REJECTD, DELETED, UNKNOWN
    RECEIPT_EXPIRED = "receipt_expired"


class IllegalTransition(ValueError):
    """An event the delivery state machine does not allow: a bug in the caller."""


S, E = DeliveryState, DeliveryEvent
FINAL = frozenset({S.DELIVERED, S.FAILED, S.EXPIRED})

TABLE: dict[tuple[DeliveryState, DeliveryEvent], DeliveryState] = {
    (S.QUEUED, E.ACCEPTED): S.SUBMITTED,
    (S.QUEUED, E.REJECTED): S.FAILED,
    (S.SUBMITTED, E.REJECTED): S.FAILED,  # a later part of a long message refused: it cannot arrive whole
    (S.SUBMITTED, E.RECEIPT_ENROUTE): S.SUBMITTED,
    (S.SUBMITTED, E.RECEIPT_DELIVERED): S.DELIVERED,
    (S.SUBMITTED, E.RECEIPT_FAILED): S.FAILED,
    (S.SUBMITTED, E.RECEIPT_EXPIRED): S.EXPIRED,
}

# Pairs that change nothing: repeated responses, and any news after a final state.
IGNORED = frozenset({(S.SUBMITTED, E.ACCEPTED)} | {(state, event) for state in FINAL for event in DeliveryEvent})

# Receipt `stat` values (SMPP 3.4 appendix B) and the event each stands for.
RECEIPT_STATS: dict[str, DeliveryEvent] = {
    "DELIVRD": E.RECEIPT_DELIVERED, "EXPIRED": E.RECEIPT_EXPIRED, "UNDELIV": E.RECEIPT_FAILED,
    "REJECTD": E.RECEIPT_FAILED, "DELETED": E.RECEIPT_FAILED, "UNKNOWN": E.RECEIPT_FAILED,
    "ACCEPTD": E.RECEIPT_ENROUTE, "ENROUTE": E.RECEIPT_ENROUTE,
}


def step(state: DeliveryState, event: DeliveryEvent) -> DeliveryState:
    if (state, event) in TABLE:
        return TABLE[(state, event)]
    if (state, event) in IGNORED:
        return state
    raise IllegalTransition(f"delivery: {event.value} in state {state.value}")


def receipt_event(stat: str) -> DeliveryEvent:
    """The event a receipt's `stat` stands for; an unknown stat counts as a failure (never as delivered)."""
    return RECEIPT_STATS.get(stat.strip().upper(), E.RECEIPT_FAILED)
