"""A registrar (RFC 3261 §10.3) with digest authentication, so agents' softphones register directly.

Bindings live in memory per address-of-record (several contacts each, with expiry); a restart loses them
and phones re-register within their expiry, which is how SIP deployments behave. Nonces are single-use-ish:
kept for `NONCE_TTL_S`, answered with `stale=true` once expired.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dialer.sip.digest import make_challenge, verify
from dialer.sip.headers import parse_name_addr, parse_params
from dialer.sip.layer import ServerTransaction, response_to
from dialer.sip.message import SipParseError, SipRequest
from dialer.sip.transport import Address

DEFAULT_EXPIRES_S = 3600
MIN_EXPIRES_S = 60
MAX_EXPIRES_S = 86_400
NONCE_TTL_S = 300


@dataclass
class Binding:
    contact: str
    expires_at: float
    call_id: str
    cseq: int
    source: Address


@dataclass
class Registrar:
    realm: str
    password_of: Callable[[str], str | None]
    clock: Callable[[], float] = time.monotonic
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    _nonces: dict[str, float] = field(default_factory=dict)

    def lookup(self, user: str) -> list[Binding]:
        now = self.clock()
        live = [b for b in self.bindings.get(user, []) if b.expires_at > now]
        self.bindings[user] = live
        return live

    def handle(self, txn: ServerTransaction, request: SipRequest, source: Address) -> None:
        now = self.clock()
        self._nonces = {n: t for n, t in self._nonces.items() if now - t < NONCE_TTL_S}
        user = verify(request.get("Authorization") or "", "REGISTER", self.password_of, set(self._nonces))
        if user is None:
            nonce, challenge = make_challenge(self.realm)
            self._nonces[nonce] = now
            response = response_to(request, 401, "Unauthorized", "reg")
            response.add("WWW-Authenticate", challenge)
            txn.respond(response)
            return
        try:
            to_user = parse_name_addr(request.get("To") or "").user
            cseq = int((request.get("CSeq") or "0").split()[0])
        except (SipParseError, ValueError):
            txn.respond(response_to(request, 400, "Bad Request", "reg"))
            return
        if to_user != user:
            txn.respond(response_to(request, 403, "Forbidden", "reg"))  # one may only register oneself
            return
        status, extra = self._update(user, request, cseq, source, now)
        response = response_to(request, status, {200: "OK", 423: "Interval Too Brief", 400: "Bad Request"}[status], "reg")
        for name, value in extra:
            response.add(name, value)
        if status == 200:
            for binding in self.lookup(user):
                response.add("Contact", f"<{binding.contact}>;expires={int(binding.expires_at - now)}")
        txn.respond(response)

    def _update(self, user: str, request: SipRequest, cseq: int, source: Address,
                now: float) -> tuple[int, list[tuple[str, str]]]:
        contacts = request.get_all("Contact")
        header_expires = request.get("Expires")
        default = int(header_expires) if header_expires and header_expires.isdigit() else DEFAULT_EXPIRES_S
        call_id = request.get("Call-ID") or ""
        current = self.lookup(user)
        if contacts == ["*"]:
            if default != 0:
                return 400, []
            self.bindings[user] = []
            return 200, []
        for value in contacts:
            contact = parse_name_addr(value)
            params = contact.params if "<" in value else parse_params(value.partition(";")[2])
            expires = int(params["expires"]) if (params.get("expires") or "").isdigit() else default
            if 0 < expires < MIN_EXPIRES_S:
                return 423, [("Min-Expires", str(MIN_EXPIRES_S))]
            existing = next((b for b in current if b.contact == contact.uri), None)
            if existing and existing.call_id == call_id and cseq <= existing.cseq:
                continue  # an out-of-order retransmission (§10.3 step 7)
            current = [b for b in current if b.contact != contact.uri]
            if expires:
                current.append(Binding(contact.uri, now + min(expires, MAX_EXPIRES_S), call_id, cseq, source))
        self.bindings[user] = current
        return 200, []
