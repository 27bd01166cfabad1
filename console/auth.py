"""Who a request acts as. Authenticators turn a request's credentials into a `Principal`; `console.access` asks
each in turn. Bearer API tokens are the first kind; browser sessions (`console.sessions.SessionAuthenticator`)
the second.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from aiohttp import web

from cases import Store
from console import tokens
from console.errors import InvalidToken
from console.tokens import Principal

# How long a checked token is trusted without reading its row again: a revocation, an expiry or a user's
# deactivation takes effect on a running server within this time.
CACHE_TTL = timedelta(seconds=5)
MAX_CACHED = 1024  # tokens remembered at once; past it the oldest is forgotten (and read again when used)


class Credentials(Protocol):
    """The part of a request an authenticator reads (an aiohttp `web.Request` is one)."""

    @property
    def headers(self) -> Mapping[str, str]: ...


class Authenticator(Protocol):
    async def authenticate(self, request: web.Request) -> Principal | None:
        """The request's user; None when it carries no credentials of this kind; raises `InvalidToken` (or
        another `Unauthenticated`) when it carries some that do not check out."""
        ...


@dataclass(frozen=True)
class _Checked:
    secret_hash: str
    principal: Principal
    at: datetime


class BearerTokens:
    """`Authorization: Bearer dl_<id>_<secret>` (RFC 6750 §2.1). The row is read off the event loop, from a
    read-only session, at most once per CACHE_TTL per token; a use is recorded at most once a minute."""

    def __init__(self, *, store: Store, clock: Callable[[], datetime], ttl: timedelta = CACHE_TTL,
                 max_cached: int = MAX_CACHED) -> None:
        self.store = store
        self.clock = clock
        self.ttl = ttl
        self.max_cached = max_cached
        self._checked: dict[int, _Checked] = {}  # token id -> last check; insertion order is age

    @property
    def cached(self) -> int:
        return len(self._checked)

    async def authenticate(self, request: Credentials) -> Principal | None:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        parsed = tokens.parse(credentials.strip())
        if parsed is None:
            raise InvalidToken("the bearer token is not a Dunline API token")
        token_id, secret = parsed
        now = self.clock()
        checked = self._checked.get(token_id)
        if (checked is not None and now - checked.at < self.ttl
                and hmac.compare_digest(checked.secret_hash, tokens.hash_secret(secret))):
            return checked.principal
        resolved = await asyncio.to_thread(self._look_up, token_id, secret, now)
        self._checked.pop(token_id, None)
        if resolved is None:
            raise InvalidToken("the token is unknown, revoked or expired, or its user is deactivated")
        if len(self._checked) >= self.max_cached:
            del self._checked[next(iter(self._checked))]
        self._checked[token_id] = _Checked(resolved.secret_hash, resolved.principal, now)
        return resolved.principal

    def _look_up(self, token_id: int, secret: str, now: datetime) -> tokens.Resolved | None:
        with self.store.reading() as session:
            resolved = tokens.resolve(session, token_id, secret, now)
        if resolved is not None and tokens.touch_due(resolved.last_used_at, now):
            with self.store.session() as session:
                tokens.touch(session, token_id, now)
        return resolved
