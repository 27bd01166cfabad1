"""SIP dialogs (RFC 3261 §12): identity, route set, remote target and CSeq; building in-dialog requests.

Pure data and functions: the UAC makes a dialog from its INVITE and the 2xx (route set = Record-Route
reversed), the UAS from the INVITE it received (route set = Record-Route in order). In-dialog requests go
to the remote target through the route set, with loose routing (§12.2.1.1, §16.12) or, when the first hop
is a strict router, the target appended as the last Route and the first route as Request-URI.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from dialer.sip.headers import BRANCH_MAGIC, parse_name_addr
from dialer.sip.message import SipParseError, SipRequest, SipResponse, parse_cseq


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return BRANCH_MAGIC + secrets.token_hex(8)


@dataclass
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str
    remote_uri: str
    remote_target: str
    local_seq: int
    remote_seq: int | None = None
    route_set: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.call_id, self.local_tag, self.remote_tag)

    def next_request(self, method: str, via: str) -> SipRequest:
        """A new in-dialog request (BYE, re-INVITE, INFO, ...) with the next local CSeq."""
        self.local_seq += 1
        return self._request(method, via, self.local_seq)

    def ack_for_2xx(self, invite_cseq: int, via: str) -> SipRequest:
        """The ACK for a 2xx: its own transaction, same CSeq number as the INVITE (§13.2.2.4)."""
        return self._request("ACK", via, invite_cseq, ack=True)

    def _request(self, method: str, via: str, cseq: int, ack: bool = False) -> SipRequest:
        uri, routes = self.remote_target, list(self.route_set)
        if routes and ";lr" not in parse_name_addr(routes[0]).uri:  # strict router first (§12.2.1.1)
            uri = parse_name_addr(routes[0]).uri
            routes = routes[1:] + [f"<{self.remote_target}>"]
        request = SipRequest(method=method, uri=uri)
        request.add("Via", via)
        request.add("Max-Forwards", "70")
        request.add("From", f"<{self.local_uri}>;tag={self.local_tag}")
        request.add("To", f"<{self.remote_uri}>;tag={self.remote_tag}")
        request.add("Call-ID", self.call_id)
        request.add("CSeq", f"{cseq} {'ACK' if ack else method}")
        for route in routes:
            request.add("Route", route)
        return request

    def accept_remote_request(self, request: SipRequest) -> bool:
        """Check the remote CSeq of an in-dialog request (§12.2.2): lower than seen means out of order -> 500."""
        number, _ = parse_cseq(request.get("CSeq") or "")
        if self.remote_seq is not None and number < self.remote_seq and request.method != "ACK":
            return False
        if request.method != "ACK":
            self.remote_seq = number
        contact = request.get("Contact")
        if contact and request.method in ("INVITE", "UPDATE"):  # target refresh (§12.2.2)
            self.remote_target = parse_name_addr(contact).uri
        return True


def dialog_from_uac(invite: SipRequest, response: SipResponse) -> Dialog:
    """The caller's dialog from its INVITE and a 2xx (or 1xx with a To tag: an early dialog)."""
    to = parse_name_addr(response.get("To") or "")
    sender = parse_name_addr(invite.get("From") or "")
    contact = response.get("Contact")
    if not to.tag or not sender.tag or not contact:
        raise SipParseError("response cannot make a dialog: missing To tag, From tag or Contact")
    return Dialog(
        call_id=invite.get("Call-ID") or "", local_tag=sender.tag, remote_tag=to.tag, local_uri=sender.uri,
        remote_uri=to.uri, remote_target=parse_name_addr(contact).uri,
        local_seq=parse_cseq(invite.get("CSeq") or "")[0],
        route_set=list(reversed(response.get_all("Record-Route"))),
    )


def dialog_from_uas(invite: SipRequest, local_tag: str) -> Dialog:
    """The callee's dialog from the INVITE it answers with a 2xx carrying `local_tag`."""
    sender = parse_name_addr(invite.get("From") or "")
    to = parse_name_addr(invite.get("To") or "")
    contact = invite.get("Contact")
    if not sender.tag or not contact:
        raise SipParseError("INVITE cannot make a dialog: missing From tag or Contact")
    return Dialog(
        call_id=invite.get("Call-ID") or "", local_tag=local_tag, remote_tag=sender.tag, local_uri=to.uri,
        remote_uri=sender.uri, remote_target=parse_name_addr(contact).uri, local_seq=0,
        remote_seq=parse_cseq(invite.get("CSeq") or "")[0], route_set=invite.get_all("Record-Route"),
    )
