"""The user agent server core for INVITE (RFC 3261 §13.3, §9.2): ringing, answering, refusing, CANCEL.

A 2xx is the UAS core's to retransmit (T1 doubling up to T2) until the ACK comes; with no ACK after
64*T1 the call is confirmed dead and hung up with BYE (§13.3.1.4). A CANCEL for a call not yet answered
gets 200 and the INVITE gets 487 (§9.2); a CANCEL that arrives after the 2xx only gets its 200.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from dialer.sip.call import Call
from dialer.sip.dialog import dialog_from_uas, new_tag
from dialer.sip.layer import ServerTransaction, TransactionLayer, response_to
from dialer.sip.message import SipParseError, SipRequest, SipResponse
from dialer.sip.transaction import T1, T2, State


class InviteServer:
    """Answers the INVITEs a user agent receives, on behalf of whoever handles its incoming calls."""

    def __init__(self, layer: TransactionLayer, contact: Callable[[], str], hang_up: Callable[[Call], object]) -> None:
        self.layer = layer
        self.contact = contact
        self.hang_up = hang_up

    def accept(self, txn: ServerTransaction, request: SipRequest, source: tuple[str, int]) -> Call | None:
        """A new incoming call for an out-of-dialog INVITE, or None when it cannot make a dialog (400)."""
        call = Call(request.get("Call-ID") or "", request, source, incoming=True, server_txn=txn,
                    local_tag=new_tag(), remote_sdp=request.body)
        try:
            call.dialog = dialog_from_uas(request, call.local_tag)
        except SipParseError:
            txn.respond(response_to(request, 400, "Bad Request", call.local_tag))
            return None
        call.dialog.local_seq = 0
        return call

    def _response(self, call: Call, status: int, reason: str, sdp: bytes = b"") -> SipResponse:
        response = response_to(call.invite, status, reason, call.local_tag)
        for route in call.invite.get_all("Record-Route"):
            response.add("Record-Route", route)
        if status < 300:
            response.add("Contact", self.contact())
        if sdp:
            response.add("Content-Type", "application/sdp")
            response.body = sdp
        return response

    def ring(self, call: Call, sdp: bytes = b"") -> None:
        """180 Ringing, or 183 Session Progress with early media when `sdp` is given."""
        if self._open(call):
            assert call.server_txn is not None
            call.server_txn.respond(self._response(call, 183 if sdp else 180,
                                                   "Session Progress" if sdp else "Ringing", sdp))

    def answer(self, call: Call, sdp: bytes) -> bool:
        """Send the 2xx and retransmit it until the ACK; False when the call was already cancelled."""
        if not self._open(call):
            return False
        assert call.server_txn is not None
        call.local_sdp = sdp
        response = self._response(call, 200, "OK", sdp)
        call.server_txn.respond(response)
        call.answered = True
        asyncio.get_running_loop().create_task(self._retransmit_until_ack(call, response))
        return True

    def reject(self, call: Call, status: int, reason: str) -> None:
        if self._open(call):
            assert call.server_txn is not None
            call.server_txn.respond(self._response(call, status, reason))
            call.ended.set()

    def _open(self, call: Call) -> bool:
        return not call.answered and not call.ended.is_set() and call.server_txn is not None \
            and call.server_txn.state is State.PROCEEDING

    async def _retransmit_until_ack(self, call: Call, response: SipResponse) -> None:
        interval, waited, limit = T1, 0.0, 64 * T1
        scale = self.layer.time_scale
        while waited < limit and not call.ended.is_set():
            try:
                await asyncio.wait_for(call.acked.wait(), interval * scale)
                return
            except asyncio.TimeoutError:
                waited += interval
                if not self.layer.transport or self.layer.transport.reliable:
                    continue
                self.layer.send_raw(response, call.peer)
                interval = min(2 * interval, T2)
        if not call.acked.is_set() and not call.ended.is_set():
            self.hang_up(call)  # never ACKed: the dialog is confirmed and then terminated (§13.3.1.4)

    def cancel(self, txn: ServerTransaction, request: SipRequest, call: Call | None) -> None:
        """CANCEL (§9.2): 200 for it; 487 for the INVITE if it has not been answered yet."""
        if call is None or not call.incoming:
            txn.respond(response_to(request, 481, "Call/Transaction Does Not Exist"))
            return
        txn.respond(response_to(request, 200, "OK"))
        if self._open(call):
            assert call.server_txn is not None
            call.server_txn.respond(self._response(call, 487, "Request Terminated"))
            call.ended.set()
