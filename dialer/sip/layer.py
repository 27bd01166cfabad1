"""The transaction layer at run time (RFC 3261 §17): matching, timers, and the actions of the tables.

It owns the client and server transactions, arms and cancels their timers on the event loop, performs
what `transaction.step` returns, and hands the transaction user (UAC/UAS cores) what is theirs:
responses to its requests, new requests with their server transaction, ACKs for 2xx and stray 2xx
retransmissions (both belong to dialogs, not transactions). A transaction is forgotten as soon as it
terminates, so none outlives its timers.

Every message leaves through `send_raw`, which refuses to reflect (issue 14, item 9): over a datagram
transport, where a request's source address can be forged, a response larger than the request it answers
plus REPLY_ALLOWANCE_BYTES is withheld, its retransmissions with it (they are the same message). The
allowance covers what a tiny request legitimately draws: a 401's WWW-Authenticate (~150 bytes), a 2xx's
Contact and SDP answer (~350 bytes), a to-tag and a longer reason phrase. So a forged source receives at
most (request + 512 bytes) per copy, in the dozen copies the RFC's timers bound (100 Trying, the final
response and its Timer G retransmissions until Timer H). Stream transports are not bounded: a TCP
handshake proves the source address.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from dialer.sip.headers import parse_via
from dialer.sip.message import SipParseError, SipRequest, SipResponse, parse_cseq
from dialer.sip.transaction import (
    Action,
    Event,
    Kind,
    State,
    response_event,
    step,
    timer_duration,
    tu_event,
)
from dialer.sip.transport import Address, SipTransport

log = logging.getLogger(__name__)
REPLY_ALLOWANCE_BYTES = 512
TIMER_OF = {Action.RESTART_A: Event.TIMER_A, Action.RESTART_E: Event.TIMER_E, Action.RESTART_G: Event.TIMER_G,
            Action.START_D: Event.TIMER_D, Action.START_K: Event.TIMER_K, Action.START_H: Event.TIMER_H,
            Action.START_G: Event.TIMER_G, Action.START_I: Event.TIMER_I, Action.START_J: Event.TIMER_J,
            Action.START_L: Event.TIMER_L, Action.START_M: Event.TIMER_M}
STOPS = {Action.STOP_A: Event.TIMER_A, Action.STOP_E: Event.TIMER_E, Action.STOP_G: Event.TIMER_G}


class TransactionTimeout(Exception):
    """No final response before Timer B/F (client) — or no ACK before Timer H (server)."""


class TransactionTransportError(Exception):
    """The transport could not deliver the request."""


@dataclass(eq=False)
class Transaction:
    layer: TransactionLayer
    kind: Kind
    key: tuple[str, ...]
    request: SipRequest
    peer: Address
    state: State
    timers: dict[Event, asyncio.TimerHandle] = field(default_factory=dict)
    intervals: dict[Event, float] = field(default_factory=dict)
    last_response: SipResponse | None = None

    def fire(self, event: Event) -> None:
        self.timers.pop(event, None)
        self.layer.dispatch(self, event)


@dataclass(eq=False)
class ClientTransaction(Transaction):
    responses: asyncio.Queue[SipResponse] = field(default_factory=asyncio.Queue)
    final: asyncio.Future[SipResponse] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass(eq=False)
class ServerTransaction(Transaction):
    def respond(self, response: SipResponse) -> None:
        self.last_response = response
        self.layer.dispatch(self, tu_event(response.status))


RequestHandler = Callable[[ServerTransaction | None, SipRequest, Address], None]
ResponseHandler = Callable[[SipResponse, Address], None]


class TransactionLayer:
    def __init__(self, on_request: RequestHandler, on_stray_response: ResponseHandler | None = None,
                 time_scale: float = 1.0) -> None:
        self.transport: SipTransport | None = None
        self.time_scale = time_scale  # < 1 only in tests, to run the RFC timers faster
        self.on_request = on_request
        self.on_stray_response = on_stray_response or (lambda response, addr: None)
        self.clients: dict[tuple[str, ...], ClientTransaction] = {}
        self.servers: dict[tuple[str, ...], ServerTransaction] = {}

    @property
    def live(self) -> int:
        return len(self.clients) + len(self.servers)

    # Sending ---------------------------------------------------------------------------------------------------
    def send_request(self, request: SipRequest, peer: Address) -> ClientTransaction:
        """Start a client transaction (not for ACK of a 2xx, which the dialog sends with `send_raw`)."""
        branch = parse_via(request.get("Via") or "").branch or ""
        kind = Kind.INVITE_CLIENT if request.method == "INVITE" else Kind.NON_INVITE_CLIENT
        state = State.CALLING if kind is Kind.INVITE_CLIENT else State.TRYING
        txn = ClientTransaction(self, kind, (branch, request.method), request, peer, state)
        self.clients[txn.key] = txn
        self.send_raw(request, peer)
        reliable = self._reliable
        if not reliable:
            self._arm(txn, Event.TIMER_A if kind is Kind.INVITE_CLIENT else Event.TIMER_E)
        self._arm(txn, Event.TIMER_B if kind is Kind.INVITE_CLIENT else Event.TIMER_F)
        return txn

    def send_raw(self, message: SipRequest | SipResponse, peer: Address) -> None:
        assert self.transport is not None, "transaction layer has no transport"
        data = message.to_bytes()
        if isinstance(message, SipResponse) and not self._reliable and reflects(len(data), message.request_size):
            log.info("withheld a %d response of %d bytes to a %d-byte request", message.status, len(data),
                     message.request_size)
            return
        self.transport.send(data, peer)

    @property
    def _reliable(self) -> bool:
        return bool(self.transport and self.transport.reliable)

    # Receiving -------------------------------------------------------------------------------------------------
    def receive(self, message: SipRequest | SipResponse, source: Address) -> None:
        if isinstance(message, SipResponse):
            self._receive_response(message, source)
        else:
            self._receive_request(message, source)

    def _receive_response(self, response: SipResponse, source: Address) -> None:
        try:
            branch = parse_via(response.get("Via") or "").branch or ""
            method = parse_cseq(response.get("CSeq") or "")[1]
        except SipParseError:
            return
        txn = self.clients.get((branch, method))
        if txn is None:
            if 200 <= response.status < 300:
                self.on_stray_response(response, source)  # a 2xx retransmission: the dialog re-ACKs it
            return
        txn.last_response = response
        self.dispatch(txn, response_event(response.status))

    def _receive_request(self, request: SipRequest, source: Address) -> None:
        try:
            via = parse_via(request.get("Via") or "")
        except SipParseError:
            return
        method = "INVITE" if request.method == "ACK" else request.method
        key = (via.branch or "", f"{via.host}:{via.port or 5060}", method)
        txn = self.servers.get(key)
        if request.method == "ACK":
            if txn is None or txn.kind is not Kind.INVITE_SERVER:
                self.on_request(None, request, source)  # the ACK for a 2xx: its own transaction, for the dialog
            else:
                self.dispatch(txn, Event.RECV_ACK, request)
            return
        if txn is not None:
            self.dispatch(txn, Event.RECV_REQUEST)  # a retransmission: absorbed or answered again
            return
        kind = Kind.INVITE_SERVER if request.method == "INVITE" else Kind.NON_INVITE_SERVER
        txn = ServerTransaction(self, kind, key, request, source,
                                State.PROCEEDING if kind is Kind.INVITE_SERVER else State.TRYING)
        self.servers[key] = txn
        if kind is Kind.INVITE_SERVER:
            txn.respond(response_to(request, 100, "Trying"))
        self.on_request(txn, request, source)

    # The machine -----------------------------------------------------------------------------------------------
    def dispatch(self, txn: Transaction, event: Event, message: SipRequest | None = None) -> None:
        new_state, actions = step(txn.kind, txn.state, event)
        txn.state = new_state
        for action in actions:
            self._perform(txn, action, message)
        if new_state is State.TERMINATED:
            self._forget(txn)

    def _perform(self, txn: Transaction, action: Action, message: SipRequest | None) -> None:
        if action is Action.SEND_REQUEST:
            self.send_raw(txn.request, txn.peer)
        elif action is Action.SEND_RESPONSE and txn.last_response is not None:
            self.send_raw(txn.last_response, txn.peer)
        elif action is Action.SEND_ACK and txn.last_response is not None:
            self.send_raw(ack_for_failure(txn.request, txn.last_response), txn.peer)
        elif action is Action.PASS_TO_TU:
            if isinstance(txn, ClientTransaction) and txn.last_response is not None:
                if txn.final.done() and 200 <= txn.last_response.status < 300:
                    self.on_stray_response(txn.last_response, txn.peer)  # a 2xx retransmission: re-ACK it
                    return
                txn.responses.put_nowait(txn.last_response)
                if txn.last_response.status >= 200 and not txn.final.done():
                    txn.final.set_result(txn.last_response)
            elif message is not None:
                self.on_request(None, message, txn.peer)
        elif action in (Action.REPORT_TIMEOUT, Action.REPORT_TRANSPORT_ERROR):
            error = TransactionTimeout if action is Action.REPORT_TIMEOUT else TransactionTransportError
            if isinstance(txn, ClientTransaction) and not txn.final.done():
                txn.final.set_exception(error(f"{txn.request.method} {txn.request.uri}"))
        elif action in STOPS:
            handle = txn.timers.pop(STOPS[action], None)
            if handle:
                handle.cancel()
        elif action in TIMER_OF:
            self._arm(txn, TIMER_OF[action])

    def _arm(self, txn: Transaction, timer: Event) -> None:
        previous = txn.intervals.get(timer) if timer in (Event.TIMER_A, Event.TIMER_E, Event.TIMER_G) else None
        delay = timer_duration(timer, reliable=self._reliable, previous=previous,
                               proceeding=txn.state is State.PROCEEDING and timer is Event.TIMER_E)
        txn.intervals[timer] = delay
        old = txn.timers.pop(timer, None)
        if old:
            old.cancel()
        txn.timers[timer] = asyncio.get_running_loop().call_later(delay * self.time_scale, txn.fire, timer)

    def _forget(self, txn: Transaction) -> None:
        for handle in txn.timers.values():
            handle.cancel()
        txn.timers.clear()
        table = self.clients if isinstance(txn, ClientTransaction) else self.servers
        table.pop(txn.key, None)


def reflects(response_size: int, request_size: int | None) -> bool:
    """Would sending this response amplify its request? (None: a request built here, never received.)"""
    return request_size is not None and response_size > request_size + REPLY_ALLOWANCE_BYTES


def response_to(request: SipRequest, status: int, reason: str, to_tag: str | None = None) -> SipResponse:
    """A response copying Via, From, To, Call-ID and CSeq from the request (§8.2.6.2)."""
    response = SipResponse(status=status, reason=reason, request_size=request.wire_size)
    for value in request.get_all("Via"):
        response.add("Via", value)
    response.add("From", request.get("From") or "")
    to = request.get("To") or ""
    response.add("To", to if (to_tag is None or ";tag=" in to) else f"{to};tag={to_tag}")
    response.add("Call-ID", request.get("Call-ID") or "")
    response.add("CSeq", request.get("CSeq") or "")
    return response


def ack_for_failure(invite: SipRequest, response: SipResponse) -> SipRequest:
    """The ACK a client transaction sends for a 3xx-6xx (§17.1.1.3): same branch, To from the response."""
    ack = SipRequest(method="ACK", uri=invite.uri)
    ack.add("Via", invite.get("Via") or "")
    ack.add("Max-Forwards", "70")
    ack.add("From", invite.get("From") or "")
    ack.add("To", response.get("To") or "")
    ack.add("Call-ID", invite.get("Call-ID") or "")
    ack.add("CSeq", f"{parse_cseq(invite.get('CSeq') or '')[0]} ACK")
    for route in invite.get_all("Route"):
        ack.add("Route", route)
    return ack
