"""The user agent (RFC 3261 §8, §13): places calls as a UAC, receives them through the UAS core, registers.

Outbound: INVITE with digest retry, ring timeout with CANCEL, ACK for 2xx (and again for each 2xx
retransmission), BYE either way, and the call's result. A 200 that crosses our CANCEL is ACKed and hung up
at once with BYE: never a silent answered call. Inbound INVITEs go to `on_incoming` (see `uas.py`); in-dialog
BYE, INFO (digits), OPTIONS and re-INVITE (session refresh) are answered here. A call is forgotten 64*T1
after it ends, once no retransmission can still arrive for it.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dialer.sip.call import Call
from dialer.sip.dialog import dialog_from_uac, new_branch, new_tag
from dialer.sip.digest import AuthFlow, Credentials, auth_flow
from dialer.sip.layer import (
    ClientTransaction,
    ServerTransaction,
    TransactionLayer,
    TransactionTimeout,
    TransactionTransportError,
    response_to,
)
from dialer.sip.message import SipRequest, SipResponse, parse_cseq
from dialer.sip.outcome import CallResult, result_for
from dialer.sip.registrar import Registrar
from dialer.sip.transaction import T1
from dialer.sip.transport import Address, SipTransport, UdpTransport
from dialer.sip.uas import InviteServer

DEFAULT_RING_TIMEOUT_S = 25.0
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"
IncomingHandler = Callable[[Call], Awaitable[None]]


@dataclass(frozen=True)
class CallOutcome:
    result: CallResult
    code: int | None
    call: Call
    ring_seconds: float

    @property
    def answered(self) -> bool:
        return self.result is CallResult.ANSWERED


class UserAgent:
    """One SIP endpoint: a transaction layer on a transport, and the calls it has placed."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, display: str = "dialer",
                 credentials: Credentials | None = None, time_scale: float = 1.0,
                 on_incoming: IncomingHandler | None = None, outbound_proxy: Address | None = None,
                 registrar: Registrar | None = None) -> None:
        self.host, self.port, self.user = host, port, display
        self.credentials = credentials
        self.outbound_proxy = outbound_proxy  # every out-of-dialog request goes there when set
        self.layer = TransactionLayer(self._on_request, self._on_stray_response, time_scale=time_scale)
        self.calls: dict[str, Call] = {}
        self.transport: SipTransport | None = None
        self.on_incoming = on_incoming
        self.registrar = registrar  # when set, REGISTER requests are its to answer
        self.invites = InviteServer(self.layer, self.contact, self._hang_up_later)
        self._tasks: set[asyncio.Task[object]] = set()

    async def start(self, transport: SipTransport | None = None) -> None:
        self.transport = transport or await UdpTransport.bind(self.host, self.port, self.layer.receive)
        self.layer.transport = self.transport
        self.host, self.port = self.transport.local

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.transport:
            self.transport.close()

    @property
    def transport_name(self) -> str:
        return self.transport.name if self.transport else "UDP"

    def contact(self) -> str:
        suffix = "" if self.transport_name == "UDP" else f";transport={self.transport_name.lower()}"
        return f"<sip:{self.user}@{self.host}:{self.port}{suffix}>"

    def _spawn(self, work: Awaitable[object]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _track(self, call: Call) -> None:
        self.calls[call.call_id] = call
        self._spawn(self._forget_when_ended(call))

    async def _forget_when_ended(self, call: Call) -> None:
        await call.ended.wait()
        await asyncio.sleep(64 * T1 * self.layer.time_scale)  # late retransmissions still find the call
        if self.calls.get(call.call_id) is call:
            del self.calls[call.call_id]

    def via(self) -> str:
        return f"SIP/2.0/{self.transport_name} {self.host}:{self.port};branch={new_branch()};rport"

    def _new_request(self, method: str, uri: str, caller_id: str | None = None) -> SipRequest:
        """An out-of-dialog request: fresh branch, From tag, Call-ID, CSeq 1 (§8.1.1)."""
        request = SipRequest(method=method, uri=uri)
        request.add("Via", self.via())
        request.add("Max-Forwards", "70")
        request.add("From", f"<sip:{caller_id or self.user}@{self.host}>;tag={new_tag()}")
        request.add("To", f"<{uri}>")
        request.add("Call-ID", f"{new_tag()}{new_tag()}@{self.host}")
        request.add("CSeq", f"1 {method}")
        return request

    def _invite(self, uri: str, sdp: bytes, caller_id: str | None) -> SipRequest:
        invite = self._new_request("INVITE", uri, caller_id)
        invite.add("Contact", self.contact())
        if sdp:
            invite.add("Content-Type", "application/sdp")
            invite.body = sdp
        return invite

    async def dial(self, uri: str, peer: Address | None = None, sdp: bytes = b"", *, caller_id: str | None = None,
                   ring_timeout: float = DEFAULT_RING_TIMEOUT_S,
                   on_early_media: Callable[[bytes], None] | None = None) -> CallOutcome:
        """Call `uri` through `peer` (else the outbound proxy); returns once the call is answered or over.
        `on_early_media` gets the SDP of a 183 so the progress tones or announcements can be heard."""
        started = time.monotonic()
        peer = peer or self.outbound_proxy
        if peer is None:
            raise ValueError("no peer and no outbound proxy to send the INVITE to")
        invite = self._invite(uri, sdp, caller_id)
        call = Call(invite.get("Call-ID") or "", invite, peer, on_early_media=on_early_media)
        self._track(call)
        deadline = started + ring_timeout

        flow = auth_flow(invite, self.credentials, self._retry_of) if self.credentials else None
        request = next(flow) if flow else invite
        while True:
            call.invite = request
            txn = self.layer.send_request(request, peer)
            try:
                final, cancelled = await self._await_final(call, txn, deadline)
            except (TransactionTimeout, TransactionTransportError):
                call.ended.set()
                return CallOutcome(CallResult.NETWORK_ERROR, None, call, time.monotonic() - started)
            except asyncio.CancelledError:  # given up while ringing (a shutdown): the far end must stop ringing
                self._give_up(call, txn)
                raise
            retry = self._retry_with_credentials(flow, final)
            if retry is None:
                break
            request = retry
        ring = time.monotonic() - started
        if 200 <= final.status < 300:
            call.answered_at = time.monotonic()
            self._confirm(call, final)
            if cancelled:  # the 200 crossed our CANCEL: ACK it and hang up at once
                await self.hang_up(call)
                return CallOutcome(CallResult.CANCELLED, final.status, call, ring)
            return CallOutcome(CallResult.ANSWERED, final.status, call, ring)
        call.ended.set()
        return CallOutcome(result_for(final.status), final.status, call, ring)

    def _retry_of(self, request: SipRequest) -> SipRequest:
        """The same request as a new transaction (fresh branch), for the digest flow to sign."""
        retry = copy.deepcopy(request)
        retry.set("Via", self.via())
        return retry

    @staticmethod
    def _retry_with_credentials(flow: AuthFlow | None, final: SipResponse) -> SipRequest | None:
        """The INVITE to send again after a 401/407, or None when there is none (no flow, or refused)."""
        if flow is None or final.status not in (401, 407):
            return None
        try:
            return flow.send(final)
        except StopIteration:
            return None

    def _give_up(self, call: Call, txn: ClientTransaction) -> None:
        """CANCEL a call whose dialler stopped waiting, then settle it in the background: a 200 that crosses
        the CANCEL is ACKed and hung up at once, anything else just ends the call."""
        self._cancel(call)

        async def settle() -> None:
            try:
                final, _ = await self._await_final(call, txn, time.monotonic(), cancelled=True)
            except (TransactionTimeout, TransactionTransportError):
                final = None
            if final is not None and 200 <= final.status < 300:
                self._confirm(call, final)
                await self.hang_up(call)
            else:
                call.ended.set()
        self._spawn(settle())

    async def _await_final(self, call: Call, txn: ClientTransaction, deadline: float, *,
                           cancelled: bool = False) -> tuple[SipResponse, bool]:
        """The INVITE's final response, and whether we had CANCELled it by then (ring timeout, or given up)."""
        while True:
            getter = asyncio.ensure_future(txn.responses.get())
            timeout = None if cancelled else max(0.0, deadline - time.monotonic())
            done, _ = await asyncio.wait({getter, txn.final}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                response = getter.result()
                if response.status >= 200:
                    return response, cancelled
                call.provisional.append(response.status)
                if response.body and call.on_early_media is not None:
                    call.on_early_media(response.body)
                continue
            getter.cancel()
            if txn.final in done:
                final = txn.final.result()  # raises TransactionTimeout / TransactionTransportError
                while not txn.responses.empty():
                    queued = txn.responses.get_nowait()
                    if queued.status < 200:
                        call.provisional.append(queued.status)
                return final, cancelled
            cancelled = True  # the ring timeout: CANCEL the INVITE (§9.1), then wait for its final
            self._cancel(call)

    def _cancel(self, call: Call) -> None:
        invite = call.invite
        cancel = SipRequest(method="CANCEL", uri=invite.uri)
        cancel.add("Via", invite.get("Via") or "")  # same branch: it names the INVITE transaction
        cancel.add("Max-Forwards", "70")
        for name in ("From", "To", "Call-ID"):
            cancel.add(name, invite.get(name) or "")
        cancel.add("CSeq", f"{parse_cseq(invite.get('CSeq') or '')[0]} CANCEL")
        for route in invite.get_all("Route"):
            cancel.add("Route", route)
        self.layer.send_request(cancel, call.peer)

    def _confirm(self, call: Call, final: SipResponse) -> None:
        call.dialog = dialog_from_uac(call.invite, final)
        call.remote_sdp = final.body
        self._ack(call)

    def _ack(self, call: Call) -> None:
        """ACK the 2xx; a retransmitted 2xx gets the very same ACK again (§13.2.2.4)."""
        assert call.dialog is not None
        if call.ack is None:
            call.ack = call.dialog.ack_for_2xx(parse_cseq(call.invite.get("CSeq") or "")[0], self.via())
        self.layer.send_raw(call.ack, call.peer)

    async def ping(self, peer: Address, timeout: float = 5.0) -> bool:
        """OPTIONS keep-alive (§11): True when the peer answers anything at all within `timeout`."""
        probe = self._new_request("OPTIONS", f"sip:{peer[0]}:{peer[1]}")
        return await self._answered(self.layer.send_request(probe, peer), timeout) is not None

    async def ping_dialog(self, call: Call, timeout: float = 5.0) -> bool:
        """In-dialog OPTIONS: False when the peer no longer knows the call (481) or does not answer."""
        if call.dialog is None or call.ended.is_set():
            return False
        request = call.dialog.next_request("OPTIONS", self.via())
        response = await self._answered(self.layer.send_request(request, call.peer), timeout)
        return response is not None and response.status not in (408, 481)

    async def send_info(self, call: Call, digit: str, timeout: float = 5.0) -> bool:
        """A digit as SIP INFO (application/dtmf-relay), for peers without RFC 4733."""
        if call.dialog is None or call.ended.is_set():
            return False
        request = call.dialog.next_request("INFO", self.via())
        request.add("Content-Type", "application/dtmf-relay")
        request.body = f"Signal={digit}\r\nDuration=160\r\n".encode()
        response = await self._answered(self.layer.send_request(request, call.peer), timeout)
        return response is not None and 200 <= response.status < 300

    async def register(self, registrar: Address, user: str, expires: int = 3600, domain: str | None = None,
                       timeout: float = 10.0) -> SipResponse | None:
        """REGISTER our contact for `user` (with digest credentials when challenged); the final response."""
        uri = f"sip:{domain or registrar[0]}"
        request = self._new_request("REGISTER", uri, user)
        request.set("To", f"<sip:{user}@{domain or registrar[0]}>")
        request.add("Contact", f"{self.contact()};expires={expires}")
        request.add("Expires", str(expires))

        flow = auth_flow(request, self.credentials, self._retry_of) if self.credentials else None
        attempt = next(flow) if flow else request
        while True:
            response = await self._answered(self.layer.send_request(attempt, registrar), timeout)
            if response is None:
                return None
            retry = self._retry_with_credentials(flow, response)
            if retry is None:
                return response
            attempt = retry

    @staticmethod
    async def _answered(txn: ClientTransaction, timeout: float) -> SipResponse | None:
        try:
            return await asyncio.wait_for(txn.final, timeout)
        except (TransactionTimeout, TransactionTransportError, asyncio.TimeoutError):
            return None

    async def hang_up(self, call: Call, timeout: float = 10.0) -> int | None:
        """End the call: BYE once answered, 480 while an incoming call still rings. Returns the BYE's status
        (None if there was nothing to hang up or the peer never answered the BYE)."""
        if call.ended.is_set():
            return None
        if call.incoming and not call.answered:
            self.invites.reject(call, 480, "Temporarily Unavailable")
            return None
        if call.dialog is None:
            return None
        call.ended.set()
        txn = self.layer.send_request(call.dialog.next_request("BYE", self.via()), call.peer)
        response = await self._answered(txn, timeout)
        return None if response is None else response.status

    def _hang_up_later(self, call: Call) -> None:
        self._spawn(self.hang_up(call))

    def _on_stray_response(self, response: SipResponse, source: Address) -> None:
        call = self.calls.get(response.get("Call-ID") or "")
        if call is not None and call.dialog is not None and 200 <= response.status < 300:
            self._ack(call)  # a retransmitted 2xx: our ACK was lost (§13.2.2.4)

    def _on_request(self, txn: ServerTransaction | None, request: SipRequest, source: Address) -> None:
        call = self.calls.get(request.get("Call-ID") or "")
        if txn is None:  # an ACK for a 2xx: it confirms an incoming call or a re-INVITE's answer
            if call is not None and call.incoming:
                call.acked.set()
            return
        if request.method == "CANCEL":
            self.invites.cancel(txn, request, call)
            return
        if request.method == "REGISTER" and self.registrar is not None:
            self.registrar.handle(txn, request, source)
            return
        if request.method not in ALLOW:  # §8.2.1: a method we do not know at all
            response = response_to(request, 501, "Not Implemented", new_tag())
            response.add("Allow", ALLOW)
            txn.respond(response)
            return
        in_dialog = ";tag=" in (request.get("To") or "")
        if request.method == "INVITE" and not in_dialog:
            self._incoming(txn, request, source, call)
            return
        if request.method == "OPTIONS" and not in_dialog:  # a keep-alive or capability probe (§11.2)
            response = response_to(request, 200, "OK", new_tag())
            response.add("Allow", ALLOW)
            txn.respond(response)
            return
        if call is None or call.dialog is None or call.ended.is_set():
            txn.respond(response_to(request, 481, "Call/Transaction Does Not Exist", new_tag()))
            return
        if not call.dialog.accept_remote_request(request):
            txn.respond(response_to(request, 500, "Server Internal Error"))
            return
        self._in_dialog(txn, request, call)

    def _incoming(self, txn: ServerTransaction, request: SipRequest, source: Address, known: Call | None) -> None:
        if known is not None:  # the same call by another path (§8.2.2.2)
            txn.respond(response_to(request, 482, "Loop Detected", new_tag()))
            return
        call = self.invites.accept(txn, request, source)
        if call is None:
            return
        self._track(call)
        if self.on_incoming is None:
            self.invites.reject(call, 480, "Temporarily Unavailable")
            return
        self._spawn(self.on_incoming(call))

    def _in_dialog(self, txn: ServerTransaction, request: SipRequest, call: Call) -> None:
        if request.method == "BYE":
            call.ended_by_peer = True
            call.ended.set()
            txn.respond(response_to(request, 200, "OK"))
        elif request.method == "INVITE":  # a session refresh: the same session as before
            response = response_to(request, 200, "OK")
            response.add("Contact", self.contact())
            if call.local_sdp:
                response.add("Content-Type", "application/sdp")
                response.body = call.local_sdp
            txn.respond(response)
        elif request.method in ("OPTIONS", "INFO", "UPDATE"):
            if request.method == "INFO" and call.on_info is not None:
                call.on_info(request.get("Content-Type") or "", request.body)
            txn.respond(response_to(request, 200, "OK"))
        else:
            txn.respond(response_to(request, 501, "Not Implemented"))
