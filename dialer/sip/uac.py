"""The user agent core for outbound calls (RFC 3261 §8.1, §13.2): INVITE with digest retry, ring timeout
with CANCEL, ACK for 2xx (and again for each 2xx retransmission), BYE either way, and the call's result.

A 200 that crosses our CANCEL is ACKed and hung up at once with BYE: never a silent answered call.
"""

from __future__ import annotations

import asyncio
import copy
import time
from dataclasses import dataclass, field

from dialer.sip.dialog import Dialog, dialog_from_uac, new_branch, new_tag
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
from dialer.sip.transport import Address, UdpTransport

DEFAULT_RING_TIMEOUT_S = 25.0
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"


@dataclass
class Call:
    call_id: str
    invite: SipRequest
    peer: Address
    dialog: Dialog | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    provisional: list[int] = field(default_factory=list)
    remote_sdp: bytes = b""


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
                 credentials: Credentials | None = None, time_scale: float = 1.0) -> None:
        self.host, self.port, self.user = host, port, display
        self.credentials = credentials
        self.layer = TransactionLayer(self._on_request, self._on_stray_response, time_scale=time_scale)
        self.calls: dict[str, Call] = {}
        self.transport: UdpTransport | None = None

    async def start(self) -> None:
        self.transport = await UdpTransport.bind(self.host, self.port, self.layer.receive)
        self.layer.transport = self.transport
        self.host, self.port = self.transport.local

    def close(self) -> None:
        if self.transport:
            self.transport.close()

    def via(self) -> str:
        return f"SIP/2.0/UDP {self.host}:{self.port};branch={new_branch()};rport"

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
        invite.add("Contact", f"<sip:{self.user}@{self.host}:{self.port}>")
        if sdp:
            invite.add("Content-Type", "application/sdp")
            invite.body = sdp
        return invite

    async def dial(self, uri: str, peer: Address, sdp: bytes = b"", *, caller_id: str | None = None,
                   ring_timeout: float = DEFAULT_RING_TIMEOUT_S) -> CallOutcome:
        started = time.monotonic()
        invite = self._invite(uri, sdp, caller_id)
        call = Call(invite.get("Call-ID") or "", invite, peer)
        self.calls[call.call_id] = call
        deadline = started + ring_timeout

        def rebuild(request: SipRequest) -> SipRequest:
            retry = copy.deepcopy(request)
            retry.set("Via", self.via())
            return retry

        flow = auth_flow(invite, self.credentials, rebuild) if self.credentials else None
        request = next(flow) if flow else invite
        while True:
            call.invite = request
            txn = self.layer.send_request(request, peer)
            try:
                final, cancelled = await self._await_final(call, txn, deadline)
            except (TransactionTimeout, TransactionTransportError):
                call.ended.set()
                return CallOutcome(CallResult.NETWORK_ERROR, None, call, time.monotonic() - started)
            retry = self._retry_with_credentials(flow, final)
            if retry is None:
                break
            request = retry
        ring = time.monotonic() - started
        if 200 <= final.status < 300:
            self._confirm(call, final)
            if cancelled:  # the 200 crossed our CANCEL: ACK it and hang up at once
                await self.hang_up(call)
                return CallOutcome(CallResult.CANCELLED, final.status, call, ring)
            return CallOutcome(CallResult.ANSWERED, final.status, call, ring)
        call.ended.set()
        return CallOutcome(result_for(final.status), final.status, call, ring)

    @staticmethod
    def _retry_with_credentials(flow: AuthFlow | None, final: SipResponse) -> SipRequest | None:
        """The INVITE to send again after a 401/407, or None when there is none (no flow, or refused)."""
        if flow is None or final.status not in (401, 407):
            return None
        try:
            return flow.send(final)
        except StopIteration:
            return None

    async def _await_final(self, call: Call, txn: ClientTransaction, deadline: float) -> tuple[SipResponse, bool]:
        """The INVITE's final response, and whether we had CANCELled it by then (ring timeout)."""
        cancelled = False
        while True:
            getter = asyncio.ensure_future(txn.responses.get())
            timeout = None if cancelled else max(0.0, deadline - time.monotonic())
            done, _ = await asyncio.wait({getter, txn.final}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                response = getter.result()
                if response.status >= 200:
                    return response, cancelled
                call.provisional.append(response.status)
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
        assert call.dialog is not None
        number = parse_cseq(call.invite.get("CSeq") or "")[0]
        self.layer.send_raw(call.dialog.ack_for_2xx(number, self.via()), call.peer)

    async def ping(self, peer: Address, timeout: float = 5.0) -> bool:
        """OPTIONS keep-alive (§11): True when the peer answers anything at all within `timeout`."""
        probe = self._new_request("OPTIONS", f"sip:{peer[0]}:{peer[1]}")
        try:
            await asyncio.wait_for(self.layer.send_request(probe, peer).final, timeout)
        except (TransactionTimeout, TransactionTransportError, asyncio.TimeoutError):
            return False
        return True

    async def hang_up(self, call: Call, timeout: float = 10.0) -> int | None:
        """Send BYE; returns the final status (None if the peer never answered it)."""
        if call.dialog is None or call.ended.is_set():
            return None
        call.ended.set()
        txn = self.layer.send_request(call.dialog.next_request("BYE", self.via()), call.peer)
        try:
            return (await asyncio.wait_for(txn.final, timeout)).status
        except (TransactionTimeout, TransactionTransportError, asyncio.TimeoutError):
            return None

    def _on_stray_response(self, response: SipResponse, source: Address) -> None:
        call = self.calls.get(response.get("Call-ID") or "")
        if call is not None and call.dialog is not None and 200 <= response.status < 300:
            self._ack(call)  # a retransmitted 2xx: our ACK was lost (§13.2.2.4)

    def _on_request(self, txn: ServerTransaction | None, request: SipRequest, source: Address) -> None:
        call = self.calls.get(request.get("Call-ID") or "")
        if txn is None:
            return  # an ACK: we place calls, we do not answer them here
        if request.method == "OPTIONS" and call is None:  # a keep-alive or capability probe (§11.2)
            response = response_to(request, 200, "OK", new_tag())
            response.add("Allow", ALLOW)
            txn.respond(response)
            return
        if call is None or call.dialog is None:
            txn.respond(response_to(request, 481, "Call/Transaction Does Not Exist", new_tag()))
            return
        if not call.dialog.accept_remote_request(request):
            txn.respond(response_to(request, 500, "Server Internal Error"))
            return
        if request.method == "BYE":
            call.ended.set()
            txn.respond(response_to(request, 200, "OK"))
        else:
            txn.respond(response_to(request, 200 if request.method in ("OPTIONS", "INFO", "UPDATE") else 501,
                                    "OK" if request.method in ("OPTIONS", "INFO", "UPDATE") else "Not Implemented"))
