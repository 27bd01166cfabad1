"""The delivery state table: every (state, event) pair is handled or explicitly ignored, and the paths a message
takes read as the module says."""

from __future__ import annotations

import itertools

import pytest

from messaging.delivery import (
    FINAL,
    IGNORED,
    TABLE,
    DeliveryEvent,
    DeliveryState,
    IllegalTransition,
    receipt_event,
    step,
)
from messaging.optout import is_opt_out

S, E = DeliveryState, DeliveryEvent


@pytest.mark.parametrize(("state", "event"), list(itertools.product(DeliveryState, DeliveryEvent)))
def test_every_pair_is_handled_ignored_or_refused(state: DeliveryState, event: DeliveryEvent) -> None:
    handled, ignored = (state, event) in TABLE, (state, event) in IGNORED
    assert not (handled and ignored)
    if handled:
        assert step(state, event) is TABLE[(state, event)]
    elif ignored:
        assert step(state, event) is state
    else:  # only news about a message that was never submitted is a caller's bug
        assert state is S.QUEUED and event.value.startswith("receipt_")
        with pytest.raises(IllegalTransition, match=f"{event.value} in state queued"):
            step(state, event)


def test_paths() -> None:
    assert step(step(S.QUEUED, E.ACCEPTED), E.RECEIPT_DELIVERED) is S.DELIVERED
    assert step(S.QUEUED, E.REJECTED) is S.FAILED
    assert step(step(S.SUBMITTED, E.RECEIPT_ENROUTE), E.RECEIPT_EXPIRED) is S.EXPIRED
    assert all(step(final, E.RECEIPT_DELIVERED) is final for final in FINAL)  # a late receipt changes nothing


def test_receipt_stats() -> None:
    assert receipt_event("DELIVRD") is E.RECEIPT_DELIVERED
    assert receipt_event(" expired ") is E.RECEIPT_EXPIRED
    assert receipt_event("UNDELIV") is E.RECEIPT_FAILED
    assert receipt_event("ACCEPTD") is E.RECEIPT_ENROUTE
    assert receipt_event("GARBLED") is E.RECEIPT_FAILED  # never taken for delivered


@pytest.mark.parametrize("text", ["STOP", " stop ", "Stop.", "TD", "td", "退订", " 退订。", "UNSUBSCRIBE", "unsubscribe\n"])
def test_opt_out_replies(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize("text", ["don't stop calling", "STOP IT NOW please", "OK", "", "退订了吗"])
def test_other_replies_are_not_opt_outs(text: str) -> None:
    assert not is_opt_out(text)
