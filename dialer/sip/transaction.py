"""RFC 3261 §17 transaction state machines, as tables (with the RFC 6026 "Accepted" state for 2xx).

`step(kind, state, event) -> (next_state, actions)`: a pure function over four tables; the I/O layer
performs the actions (send, arm or cancel timers, tell the transaction user). A pair missing from a table
is either explicitly ignored (a retransmission absorbed, a stale timer) or illegal, and illegal raises.
Timer durations follow §17 and Table 4 of RFC 3261.
"""

from __future__ import annotations

import enum

T1 = 0.5  # RTT estimate (s)
T2 = 4.0  # maximum retransmit interval for non-INVITE requests and INVITE responses
T4 = 5.0  # maximum duration a message remains in the network


class Kind(enum.StrEnum):
    INVITE_CLIENT = "invite_client"
    NON_INVITE_CLIENT = "non_invite_client"
    INVITE_SERVER = "invite_server"
    NON_INVITE_SERVER = "non_invite_server"


class State(enum.StrEnum):
    CALLING = "calling"
    TRYING = "trying"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    ACCEPTED = "accepted"
    TERMINATED = "terminated"


class Event(enum.StrEnum):
    TIMER_A = "timer_a"  # INVITE request retransmit (unreliable transports)
    TIMER_B = "timer_b"  # INVITE transaction timeout
    TIMER_D = "timer_d"  # wait for response retransmits after a non-2xx final
    TIMER_E = "timer_e"  # non-INVITE request retransmit
    TIMER_F = "timer_f"  # non-INVITE transaction timeout
    TIMER_K = "timer_k"  # wait for response retransmits (non-INVITE)
    TIMER_G = "timer_g"  # INVITE final response retransmit
    TIMER_H = "timer_h"  # wait for ACK
    TIMER_I = "timer_i"  # wait for ACK retransmits
    TIMER_J = "timer_j"  # wait for non-INVITE request retransmits
    TIMER_L = "timer_l"  # RFC 6026: wait for INVITE retransmits after a 2xx
    TIMER_M = "timer_m"  # RFC 6026: wait for 2xx retransmits
    RECV_1XX = "recv_1xx"
    RECV_2XX = "recv_2xx"
    RECV_300_699 = "recv_300_699"
    RECV_REQUEST = "recv_request"  # a retransmission of the request that created a server transaction
    RECV_ACK = "recv_ack"
    TU_1XX = "tu_1xx"
    TU_2XX = "tu_2xx"
    TU_300_699 = "tu_300_699"
    TRANSPORT_ERROR = "transport_error"


class Action(enum.StrEnum):
    SEND_REQUEST = "send_request"
    SEND_ACK = "send_ack"
    SEND_RESPONSE = "send_response"  # the latest response the TU gave
    PASS_TO_TU = "pass_to_tu"
    REPORT_TIMEOUT = "report_timeout"
    REPORT_TRANSPORT_ERROR = "report_transport_error"
    RESTART_A = "restart_a"  # interval doubles
    RESTART_E = "restart_e"  # interval doubles up to T2 (T2 once proceeding)
    RESTART_G = "restart_g"  # interval doubles up to T2
    STOP_A = "stop_a"
    STOP_E = "stop_e"
    STOP_G = "stop_g"
    START_D = "start_d"
    START_K = "start_k"
    START_H = "start_h"
    START_G = "start_g"
    START_I = "start_i"
    START_J = "start_j"
    START_L = "start_l"
    START_M = "start_m"


class IllegalTransition(ValueError):
    """An event the transaction's state machine does not allow: a bug in the caller, never the network's."""


S, E, A = State, Event, Action
Table = dict[tuple[State, Event], tuple[State, tuple[Action, ...]]]

INVITE_CLIENT: Table = {
    (S.CALLING, E.TIMER_A): (S.CALLING, (A.SEND_REQUEST, A.RESTART_A)),
    (S.CALLING, E.TIMER_B): (S.TERMINATED, (A.REPORT_TIMEOUT,)),
    (S.CALLING, E.RECV_1XX): (S.PROCEEDING, (A.STOP_A, A.PASS_TO_TU)),
    (S.CALLING, E.RECV_2XX): (S.ACCEPTED, (A.STOP_A, A.PASS_TO_TU, A.START_M)),
    (S.CALLING, E.RECV_300_699): (S.COMPLETED, (A.STOP_A, A.SEND_ACK, A.PASS_TO_TU, A.START_D)),
    (S.CALLING, E.TRANSPORT_ERROR): (S.TERMINATED, (A.REPORT_TRANSPORT_ERROR,)),
    (S.PROCEEDING, E.RECV_1XX): (S.PROCEEDING, (A.PASS_TO_TU,)),
    (S.PROCEEDING, E.RECV_2XX): (S.ACCEPTED, (A.PASS_TO_TU, A.START_M)),
    (S.PROCEEDING, E.RECV_300_699): (S.COMPLETED, (A.SEND_ACK, A.PASS_TO_TU, A.START_D)),
    (S.PROCEEDING, E.TRANSPORT_ERROR): (S.TERMINATED, (A.REPORT_TRANSPORT_ERROR,)),
    (S.COMPLETED, E.RECV_300_699): (S.COMPLETED, (A.SEND_ACK,)),  # the final was retransmitted: ACK again
    (S.COMPLETED, E.TIMER_D): (S.TERMINATED, ()),
    (S.COMPLETED, E.TRANSPORT_ERROR): (S.TERMINATED, (A.REPORT_TRANSPORT_ERROR,)),
    (S.ACCEPTED, E.RECV_2XX): (S.ACCEPTED, (A.PASS_TO_TU,)),  # the TU ACKs each 2xx retransmission
    (S.ACCEPTED, E.TIMER_M): (S.TERMINATED, ()),
}

NON_INVITE_CLIENT: Table = {
    (S.TRYING, E.TIMER_E): (S.TRYING, (A.SEND_REQUEST, A.RESTART_E)),
    (S.TRYING, E.TIMER_F): (S.TERMINATED, (A.REPORT_TIMEOUT,)),
    (S.TRYING, E.RECV_1XX): (S.PROCEEDING, (A.PASS_TO_TU,)),
    (S.TRYING, E.RECV_2XX): (S.COMPLETED, (A.STOP_E, A.PASS_TO_TU, A.START_K)),
    (S.TRYING, E.RECV_300_699): (S.COMPLETED, (A.STOP_E, A.PASS_TO_TU, A.START_K)),
    (S.TRYING, E.TRANSPORT_ERROR): (S.TERMINATED, (A.REPORT_TRANSPORT_ERROR,)),
    (S.PROCEEDING, E.TIMER_E): (S.PROCEEDING, (A.SEND_REQUEST, A.RESTART_E)),
    (S.PROCEEDING, E.TIMER_F): (S.TERMINATED, (A.REPORT_TIMEOUT,)),
    (S.PROCEEDING, E.RECV_1XX): (S.PROCEEDING, (A.PASS_TO_TU,)),
    (S.PROCEEDING, E.RECV_2XX): (S.COMPLETED, (A.STOP_E, A.PASS_TO_TU, A.START_K)),
    (S.PROCEEDING, E.RECV_300_699): (S.COMPLETED, (A.STOP_E, A.PASS_TO_TU, A.START_K)),
    (S.PROCEEDING, E.TRANSPORT_ERROR): (S.TERMINATED, (A.REPORT_TRANSPORT_ERROR,)),
    (S.COMPLETED, E.TIMER_K): (S.TERMINATED, ()),
}

INVITE_SERVER: Table = {
    (S.PROCEEDING, E.RECV_REQUEST): (S.PROCEEDING, (A.SEND_RESPONSE,)),  # resend the latest provisional
    (S.PROCEEDING, E.TU_1XX): (S.PROCEEDING, (A.SEND_RESPONSE,)),
    (S.PROCEEDING, E.TU_2XX): (S.ACCEPTED, (A.SEND_RESPONSE, A.START_L)),
    (S.PROCEEDING, E.TU_300_699): (S.COMPLETED, (A.SEND_RESPONSE, A.START_G, A.START_H)),
    (S.PROCEEDING, E.TRANSPORT_ERROR): (S.TERMINATED, (A.REPORT_TRANSPORT_ERROR,)),
    (S.COMPLETED, E.RECV_REQUEST): (S.COMPLETED, (A.SEND_RESPONSE,)),
    (S.COMPLETED, E.TIMER_G): (S.COMPLETED, (A.SEND_RESPONSE, A.RESTART_G)),
    (S.COMPLETED, E.TIMER_H): (S.TERMINATED, (A.REPORT_TIMEOUT,)),  # no ACK ever came
    (S.COMPLETED, E.RECV_ACK): (S.CONFIRMED, (A.STOP_G, A.START_I)),
    (S.COMPLETED, E.TRANSPORT_ERROR): (S.TERMINATED, (A.REPORT_TRANSPORT_ERROR,)),
    (S.CONFIRMED, E.TIMER_I): (S.TERMINATED, ()),
    (S.ACCEPTED, E.TU_2XX): (S.ACCEPTED, (A.SEND_RESPONSE,)),  # the TU retransmits its 2xx until ACKed
    (S.ACCEPTED, E.RECV_ACK): (S.ACCEPTED, (A.PASS_TO_TU,)),  # the ACK for a 2xx belongs to the dialog
    (S.ACCEPTED, E.TIMER_L): (S.TERMINATED, ()),
}

NON_INVITE_SERVER: Table = {
    (S.TRYING, E.TU_1XX): (S.PROCEEDING, (A.SEND_RESPONSE,)),
    (S.TRYING, E.TU_2XX): (S.COMPLETED, (A.SEND_RESPONSE, A.START_J)),
    (S.TRYING, E.TU_300_699): (S.COMPLETED, (A.SEND_RESPONSE, A.START_J)),
    (S.TRYING, E.TRANSPORT_ERROR): (S.TERMINATED, (A.REPORT_TRANSPORT_ERROR,)),
    (S.PROCEEDING, E.RECV_REQUEST): (S.PROCEEDING, (A.SEND_RESPONSE,)),
    (S.PROCEEDING, E.TU_1XX): (S.PROCEEDING, (A.SEND_RESPONSE,)),
    (S.PROCEEDING, E.TU_2XX): (S.COMPLETED, (A.SEND_RESPONSE, A.START_J)),
    (S.PROCEEDING, E.TU_300_699): (S.COMPLETED, (A.SEND_RESPONSE, A.START_J)),
    (S.PROCEEDING, E.TRANSPORT_ERROR): (S.TERMINATED, (A.REPORT_TRANSPORT_ERROR,)),
    (S.COMPLETED, E.RECV_REQUEST): (S.COMPLETED, (A.SEND_RESPONSE,)),
    (S.COMPLETED, E.TIMER_J): (S.TERMINATED, ()),
    (S.COMPLETED, E.TRANSPORT_ERROR): (S.TERMINATED, (A.REPORT_TRANSPORT_ERROR,)),
}

# Which events each machine can meet at all, and the pairs it absorbs without acting.
TIMERS = {
    Kind.INVITE_CLIENT: {E.TIMER_A, E.TIMER_B, E.TIMER_D, E.TIMER_M},
    Kind.NON_INVITE_CLIENT: {E.TIMER_E, E.TIMER_F, E.TIMER_K},
    Kind.INVITE_SERVER: {E.TIMER_G, E.TIMER_H, E.TIMER_I, E.TIMER_L},
    Kind.NON_INVITE_SERVER: {E.TIMER_J},
}
CLIENT_EVENTS = {E.RECV_1XX, E.RECV_2XX, E.RECV_300_699, E.TRANSPORT_ERROR}
SERVER_EVENTS = {E.RECV_REQUEST, E.TU_1XX, E.TU_2XX, E.TU_300_699, E.TRANSPORT_ERROR}
EVENTS = {
    Kind.INVITE_CLIENT: CLIENT_EVENTS | TIMERS[Kind.INVITE_CLIENT],
    Kind.NON_INVITE_CLIENT: CLIENT_EVENTS | TIMERS[Kind.NON_INVITE_CLIENT],
    Kind.INVITE_SERVER: SERVER_EVENTS | {E.RECV_ACK} | TIMERS[Kind.INVITE_SERVER],
    Kind.NON_INVITE_SERVER: SERVER_EVENTS | TIMERS[Kind.NON_INVITE_SERVER],
}
TABLES = {Kind.INVITE_CLIENT: INVITE_CLIENT, Kind.NON_INVITE_CLIENT: NON_INVITE_CLIENT,
          Kind.INVITE_SERVER: INVITE_SERVER, Kind.NON_INVITE_SERVER: NON_INVITE_SERVER}
STATES = {
    Kind.INVITE_CLIENT: {S.CALLING, S.PROCEEDING, S.COMPLETED, S.ACCEPTED, S.TERMINATED},
    Kind.NON_INVITE_CLIENT: {S.TRYING, S.PROCEEDING, S.COMPLETED, S.TERMINATED},
    Kind.INVITE_SERVER: {S.PROCEEDING, S.COMPLETED, S.CONFIRMED, S.ACCEPTED, S.TERMINATED},
    Kind.NON_INVITE_SERVER: {S.TRYING, S.PROCEEDING, S.COMPLETED, S.TERMINATED},
}
INITIAL = {Kind.INVITE_CLIENT: S.CALLING, Kind.NON_INVITE_CLIENT: S.TRYING, Kind.INVITE_SERVER: S.PROCEEDING,
           Kind.NON_INVITE_SERVER: S.TRYING}


def ignored(kind: Kind, state: State, event: Event) -> bool:
    """Pairs absorbed silently: any event once terminated, timers that fire after their state has passed
    (a cancelled timer racing its cancellation), late provisionals, responses and requests retransmitted
    after the transaction has already acted on them, and TU responses after a final (§17.2.2)."""
    if state is S.TERMINATED or event in TIMERS[kind]:
        return True
    if kind in (Kind.INVITE_CLIENT, Kind.NON_INVITE_CLIENT):
        return event in (E.RECV_1XX, E.RECV_2XX, E.RECV_300_699, E.TRANSPORT_ERROR)
    if kind is Kind.INVITE_SERVER:
        return (state, event) in {(S.CONFIRMED, E.RECV_REQUEST), (S.CONFIRMED, E.RECV_ACK),
                                  (S.ACCEPTED, E.RECV_REQUEST), (S.PROCEEDING, E.RECV_ACK),
                                  (S.CONFIRMED, E.TRANSPORT_ERROR), (S.ACCEPTED, E.TRANSPORT_ERROR)}
    return (state, event) in {(S.TRYING, E.RECV_REQUEST)} or (
        state is S.COMPLETED and event in (E.TU_1XX, E.TU_2XX, E.TU_300_699))


def step(kind: Kind, state: State, event: Event) -> tuple[State, tuple[Action, ...]]:
    try:
        return TABLES[kind][(state, event)]
    except KeyError:
        if state in STATES[kind] and event in EVENTS[kind] and ignored(kind, state, event):
            return state, ()
        raise IllegalTransition(f"{kind.value}: {event.value} in state {state.value}") from None


def response_event(status: int) -> Event:
    return E.RECV_1XX if status < 200 else E.RECV_2XX if status < 300 else E.RECV_300_699


def tu_event(status: int) -> Event:
    return E.TU_1XX if status < 200 else E.TU_2XX if status < 300 else E.TU_300_699


def timer_duration(timer: Event, *, reliable: bool, previous: float | None = None,
                   proceeding: bool = False) -> float:
    """Seconds until `timer` fires; `previous` is the last interval of a retransmit timer (A, E, G)."""
    if timer is E.TIMER_A:
        return T1 if previous is None else 2 * previous
    if timer in (E.TIMER_E, E.TIMER_G):
        if proceeding:
            return T2
        return T1 if previous is None else min(2 * previous, T2)
    if timer in (E.TIMER_B, E.TIMER_F, E.TIMER_H, E.TIMER_L, E.TIMER_M):
        return 64 * T1
    if timer is E.TIMER_D:
        return 0.0 if reliable else 32.0
    if timer in (E.TIMER_I, E.TIMER_K):
        return 0.0 if reliable else T4
    if timer is E.TIMER_J:
        return 0.0 if reliable else 64 * T1
    raise ValueError(f"{timer} is not a timer")
