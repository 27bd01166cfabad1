"""A registrar (RFC 3261 §10.3) with digest authentication, so agents' softphones register directly.

Bindings live in memory per address-of-record, at most `max_contacts` each (the most recently registered),
with expiry; a restart loses them and phones re-register within their expiry, which is how SIP deployments
behave. A phone keeps its Call-ID towards a registrar (§10.2), so a contact registered under a Call-ID
replaces the one registered earlier under it: a phone back from a new port leaves no stale contact behind.

A REGISTER meets, in this order:
- a block (`lockout.py`) when its source address, or the user it claims, gave too many wrong answers: 403,
  at no cost. A user's block spares the addresses its live bindings came from, so a guesser cannot push
  the agent's registered phone off;
- its nonce (`nonces.py`): unknown, expired, issued to another address or replayed, it gets a fresh
  challenge with `stale=true`;
- the password lookup, a database read, off the event loop (`passwords.py`); a database that does not
  answer means 503 with Retry-After (unless the password was read recently), never silence;
- the answer itself: a wrong one counts against its source and, for a real user, against the user.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from dialer.sip.digest import DigestAnswer, make_challenge, parse_answer
from dialer.sip.headers import parse_name_addr, parse_params, parse_via
from dialer.sip.layer import ServerTransaction, response_to
from dialer.sip.lockout import AuthLimits, Lockout
from dialer.sip.message import SipParseError, SipRequest, SipResponse
from dialer.sip.nonces import NonceBook
from dialer.sip.passwords import LOOKUP_TIMEOUT_S, PasswordLookup, PasswordsUnavailable
from dialer.sip.transport import Address

log = logging.getLogger(__name__)

DEFAULT_EXPIRES_S = 3600
MIN_EXPIRES_S = 60
MAX_EXPIRES_S = 86_400
MAX_CONTACTS = 5  # a desk phone, a softphone, spares; the 200 OK lists them all, so it stays a few hundred bytes
RETRY_AFTER_S = 30  # when the password lookup is down
REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 423: "Interval Too Brief", 503: "Service Unavailable"}


@dataclass
class Binding:
    contact: str
    expires_at: float
    call_id: str
    cseq: int
    source: Address
    transport: str = "UDP"  # what the REGISTER came over (its top Via): TLS bindings are called back on their flow


@dataclass
class Registrar:
    realm: str
    password_of: Callable[[str], str | None]  # blocking (a database read): it runs off the loop
    clock: Callable[[], float] = time.monotonic
    limits: AuthLimits = field(default_factory=AuthLimits)
    nonces: NonceBook = field(default_factory=NonceBook)
    max_contacts: int = MAX_CONTACTS
    lookup_timeout_s: float = LOOKUP_TIMEOUT_S
    bindings: dict[str, list[Binding]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Late-bound, so that `password_of` may be replaced on a running registrar.
        self.passwords = PasswordLookup(lambda user: self.password_of(user), clock=self.clock,
                                        timeout_s=self.lookup_timeout_s)
        self.sources = Lockout(self.limits.max_failures_per_source, self.limits.block_s)
        self.users = Lockout(self.limits.max_failures_per_user, self.limits.block_s)
        self._tasks: set[asyncio.Task[None]] = set()

    def lookup(self, user: str) -> list[Binding]:
        now = self.clock()
        live = [b for b in self.bindings.get(user, []) if b.expires_at > now]
        self._keep(user, live)
        return live

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.passwords.close()

    def handle(self, txn: ServerTransaction, request: SipRequest, source: Address) -> None:
        """Answer a REGISTER: at once when no password is needed, else from a task once it is looked up."""
        now = self.clock()
        answer = parse_answer(request.get("Authorization") or "")
        if self._blocked(source, answer.username if answer else None, now):
            txn.respond(self._response(request, 403))
        elif answer is None or answer.realm != self.realm:
            self._challenge(txn, request, source, now)
        elif not self.nonces.check(answer.nonce, source, answer.nc, now).usable:
            self._challenge(txn, request, source, now, stale=True)
        else:
            self._spawn(self._authenticate(txn, request, source, answer))

    async def _authenticate(self, txn: ServerTransaction, request: SipRequest, source: Address,
                            answer: DigestAnswer) -> None:
        try:
            password = await self.passwords.password_of(answer.username)
        except PasswordsUnavailable:
            response = self._response(request, 503)
            response.add("Retry-After", str(RETRY_AFTER_S))
            txn.respond(response)
            return
        now = self.clock()
        if password is None or not answer.matches(password, "REGISTER"):
            self._failed(source[0], answer.username if password is not None else None, now)
            self._challenge(txn, request, source, now)
        elif not self.nonces.use(answer.nonce, source, answer.nc, now).usable:
            self._challenge(txn, request, source, now, stale=True)  # the same answer twice at once: one won
        else:
            self.sources.succeeded(source[0])
            self.users.succeeded(answer.username)
            self._register(txn, request, source, answer.username, now)

    def _blocked(self, source: Address, user: str | None, now: float) -> bool:
        if self.sources.blocked_for(source[0], now):
            return True
        if user is None or not self.users.blocked_for(user, now):
            return False
        return not any(b.source[0] == source[0] for b in self.lookup(user))

    def _failed(self, host: str, user: str | None, now: float) -> None:
        """Count a wrong answer; `user` only when it names a real user (no table of made-up names)."""
        block = self.sources.failed(host, now)
        if block:
            log.warning("SIP authentication from %s blocked for %d s after repeated wrong answers", host, block)
        if user is not None and (block := self.users.failed(user, now)):
            log.warning("SIP authentication as %s blocked for %d s after repeated wrong answers (its registered "
                        "phones' addresses excepted)", user, block)

    def _challenge(self, txn: ServerTransaction, request: SipRequest, source: Address, now: float,
                   stale: bool = False) -> None:
        nonce, challenge = make_challenge(self.realm, stale=stale)
        self.nonces.issue(nonce, source, now)
        response = response_to(request, 401, "Unauthorized", "reg")
        response.add("WWW-Authenticate", challenge)
        txn.respond(response)

    def _register(self, txn: ServerTransaction, request: SipRequest, source: Address, user: str,
                  now: float) -> None:
        try:
            to_user = parse_name_addr(request.get("To") or "").user
            cseq = int((request.get("CSeq") or "0").split()[0])
        except (SipParseError, ValueError):
            txn.respond(self._response(request, 400))
            return
        if to_user != user:
            txn.respond(self._response(request, 403))  # one may only register oneself
            return
        status, extra = self._update(user, request, cseq, source, now)
        response = self._response(request, status)
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
        transport = parse_via(request.get("Via") or "").transport
        current = self.lookup(user)
        if contacts == ["*"]:
            if default != 0:
                return 400, []
            self._keep(user, [])
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
            current = [b for b in current
                       if b.contact != contact.uri and not (b.call_id == call_id and b.cseq < cseq)]
            if expires:
                current.append(Binding(contact.uri, now + min(expires, MAX_EXPIRES_S), call_id, cseq, source,
                                       transport))
        self._keep(user, current[-self.max_contacts:])
        return 200, []

    def _keep(self, user: str, bindings: list[Binding]) -> None:
        if bindings:
            self.bindings[user] = bindings
        else:
            self.bindings.pop(user, None)

    @staticmethod
    def _response(request: SipRequest, status: int) -> SipResponse:
        return response_to(request, status, REASONS[status], "reg")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
