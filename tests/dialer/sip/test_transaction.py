"""Transaction tables: every (state, event) pair is handled, absorbed, or refused as illegal."""

import pytest

from dialer.sip.transaction import (
    EVENTS,
    INITIAL,
    STATES,
    T1,
    T2,
    TABLES,
    Action,
    Event,
    IllegalTransition,
    Kind,
    State,
    step,
    timer_duration,
)

TU_EVENTS = {Event.TU_1XX, Event.TU_2XX, Event.TU_300_699}


@pytest.mark.parametrize("kind", list(Kind))
def test_every_pair_is_handled_ignored_or_illegal(kind: Kind) -> None:
    """What the network or a timer brings never raises; only a transaction user's own mistake can."""
    handled = ignored = illegal = 0
    for state in State:
        for event in Event:
            try:
                new, actions = step(kind, state, event)
            except IllegalTransition:
                assert state not in STATES[kind] or event not in EVENTS[kind] or event in TU_EVENTS, \
                    f"{kind} refuses {event} in {state}"
                illegal += 1
                continue
            if (state, event) in TABLES[kind]:
                handled += 1
            else:
                assert (new, actions) == (state, ())
                ignored += 1
    assert handled == len(TABLES[kind]) and ignored > 0 and illegal > 0


def run(kind: Kind, *events: Event) -> tuple[State, list[Action]]:
    state, done = INITIAL[kind], []
    for event in events:
        state, actions = step(kind, state, event)
        done.extend(actions)
    return state, done


def test_invite_client_retransmits_then_times_out() -> None:
    state, actions = run(Kind.INVITE_CLIENT, Event.TIMER_A, Event.TIMER_A, Event.TIMER_B)
    assert state is State.TERMINATED and actions.count(Action.SEND_REQUEST) == 2 and Action.REPORT_TIMEOUT in actions


def test_invite_client_acks_every_copy_of_a_failure_and_a_2xx_goes_to_the_tu() -> None:
    state, actions = run(Kind.INVITE_CLIENT, Event.RECV_1XX, Event.RECV_300_699, Event.RECV_300_699, Event.TIMER_D)
    assert state is State.TERMINATED and actions.count(Action.SEND_ACK) == 2
    state, actions = run(Kind.INVITE_CLIENT, Event.RECV_2XX, Event.RECV_2XX, Event.TIMER_A)
    assert state is State.ACCEPTED and actions.count(Action.PASS_TO_TU) == 2 and Action.SEND_ACK not in actions


def test_server_absorbs_retransmitted_requests() -> None:
    state, actions = run(Kind.INVITE_SERVER, Event.TU_1XX, Event.RECV_REQUEST, Event.TU_300_699,
                         Event.RECV_REQUEST, Event.RECV_ACK, Event.RECV_ACK, Event.TIMER_I)
    assert state is State.TERMINATED and actions.count(Action.SEND_RESPONSE) == 4
    state, actions = run(Kind.NON_INVITE_SERVER, Event.RECV_REQUEST, Event.TU_2XX, Event.RECV_REQUEST,
                         Event.TU_300_699, Event.TIMER_J)
    assert state is State.TERMINATED and actions.count(Action.SEND_RESPONSE) == 2  # a BYE retransmit re-answered


def test_timer_values() -> None:
    assert timer_duration(Event.TIMER_A, reliable=False) == T1
    assert timer_duration(Event.TIMER_A, reliable=False, previous=2.0) == 4.0
    assert timer_duration(Event.TIMER_E, reliable=False, previous=2.0) == T2
    assert timer_duration(Event.TIMER_E, reliable=False, previous=0.5, proceeding=True) == T2
    assert timer_duration(Event.TIMER_B, reliable=True) == 32.0
    assert timer_duration(Event.TIMER_D, reliable=True) == 0.0 and timer_duration(Event.TIMER_D, reliable=False) == 32.0
    with pytest.raises(ValueError):
        timer_duration(Event.RECV_ACK, reliable=True)
