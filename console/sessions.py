"""Console sessions: a browser's sign-in, kept in Redis, named by a signed cookie.

The cookie holds a random session id (256 bits) and its HMAC-SHA-256 under the installation's `secret_key`,
so a forged or altered cookie is refused before Redis is asked. It is HttpOnly (no script reads it),
SameSite=Strict (no other site's page sends it) and Secure when the request came over HTTPS; a WebSocket
upgrade it authenticates must come from a page of the console's own origin (SameSite ignores ports). A session ends after `idle` without a request, `lifetime` after its sign-in,
on sign-out, when its user signs out everywhere, or when the user is deactivated (checked every CACHE_TTL).

Every unsafe request (POST, PUT, PATCH, DELETE) a session authenticates carries the session's CSRF token in
the `X-CSRF-Token` header or the `csrf_token` form field; bearer-token requests carry no cookie and need none.
A user whom the settings require to use TOTP but who has none gets a session good for `/account` (to enrol)
and `/signout` only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError

from cases import Store
from cases.models import User
from console.auth import CACHE_TTL, MAX_CACHED
from console.errors import CsrfRefused, EnrolmentRequired, SessionEnded, Unavailable
from console.tokens import Principal

COOKIE = "dunline_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOUCH_EVERY = timedelta(seconds=15)  # last_seen is written at most this often: idle time is this precise
ENROL_PATHS = ("/account", "/signout")  # and what lies under /account/: all an enrol-only session may use


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)


@dataclass
class Session:
    id: str
    user_id: int
    csrf_token: str
    created_at: datetime
    last_seen: datetime
    lang: str | None = None
    enrol_only: bool = False  # must enrol a TOTP secret before anything else
    pending_totp: str | None = None  # a secret shown for enrolment, not yet confirmed with a code

    def to_json(self) -> str:
        fields = dataclasses.asdict(self)
        fields["created_at"], fields["last_seen"] = self.created_at.isoformat(), self.last_seen.isoformat()
        return json.dumps(fields)

    @classmethod
    def from_json(cls, text: str | bytes) -> Session:
        fields = json.loads(text)
        fields["created_at"] = datetime.fromisoformat(fields["created_at"])
        fields["last_seen"] = datetime.fromisoformat(fields["last_seen"])
        return cls(**fields)


SessionKey = web.RequestKey("session", Session)  # the request's session, set by `SessionAuthenticator`


class SessionStore:
    """Sessions in Redis under `<prefix>:session:<id>`, and each user's session ids under
    `<prefix>:user:<id>:sessions` (for sign-out everywhere). Time comes from `clock`; the Redis expiry is only
    the clean-up of sessions nobody ends."""

    def __init__(self, *, redis: aioredis.Redis, secret: bytes, clock: Callable[[], datetime],
                 policy: SessionPolicy = SessionPolicy(), prefix: str = "dunline:console") -> None:
        self.redis, self.secret, self.clock, self.policy, self.prefix = redis, secret, clock, policy, prefix
        self._expiry = int(policy.lifetime.total_seconds()) + 60

    def _key(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}"

    def _user_key(self, user_id: int) -> str:
        return f"{self.prefix}:user:{user_id}:sessions"

    def _mac(self, session_id: str) -> str:
        digest = hmac.new(self.secret, session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def cookie_value(self, session: Session) -> str:
        return f"{session.id}.{self._mac(session.id)}"

    def session_id(self, cookie: str) -> str | None:
        """The id a cookie names, if its signature checks out."""
        session_id, _, mac = cookie.partition(".")
        if not session_id or len(cookie) > 128 or not hmac.compare_digest(mac.encode(), self._mac(session_id).encode()):
            return None
        return session_id

    async def create(self, user_id: int, *, lang: str | None, enrol_only: bool) -> Session:
        now = self.clock()
        session = Session(id=secrets.token_urlsafe(32), user_id=user_id, csrf_token=secrets.token_urlsafe(32),
                          created_at=now, last_seen=now, lang=lang, enrol_only=enrol_only)
        with _redis_answers():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(self._key(session.id), session.to_json(), ex=self._expiry)
                pipe.sadd(self._user_key(user_id), session.id)
                pipe.expire(self._user_key(user_id), self._expiry)
                await pipe.execute()
        return session

    async def load(self, session_id: str) -> Session | None:
        """The live session, its last use recorded; None when there is none or it has timed out (then it is
        ended)."""
        with _redis_answers():
            raw = await self.redis.get(self._key(session_id))
        if raw is None:
            return None
        session = Session.from_json(raw)
        now = self.clock()
        if now - session.last_seen >= self.policy.idle or now - session.created_at >= self.policy.lifetime:
            await self.end(session)
            return None
        if now - session.last_seen >= TOUCH_EVERY:
            session.last_seen = now
            await self.save(session)
        return session

    async def save(self, session: Session) -> None:
        with _redis_answers():
            await self.redis.set(self._key(session.id), session.to_json(), ex=self._expiry, xx=True)

    async def end(self, session: Session) -> None:
        with _redis_answers():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._key(session.id))
                pipe.srem(self._user_key(session.user_id), session.id)
                await pipe.execute()

    async def end_all(self, user_id: int, *, keep: str | None = None) -> int:
        """End every session of a user but `keep` (sign out everywhere, a password change, deactivation); how
        many were live."""
        with _redis_answers():
            ids = [raw.decode() for raw in await self.redis.smembers(self._user_key(user_id))]
            ids = [session_id for session_id in ids if session_id != keep]
            if not ids:
                return 0
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(*(self._key(session_id) for session_id in ids))
                pipe.srem(self._user_key(user_id), *ids)
                ended, _ = await pipe.execute()
        return int(ended)


@contextlib.contextmanager
def _redis_answers() -> Iterator[None]:
    """Redis away: the console answers 503 (no one can be signed in or recognised), not an internal error."""
    try:
        yield
    except (RedisError, OSError) as error:
        raise Unavailable("console sessions are unavailable: Redis does not answer; try again shortly") from error


SessionsKey = web.AppKey("sessions", SessionStore)


class SessionAuthenticator:
    """The session cookie as an `console.auth.Authenticator`: its user, if the session is live and the user
    active; the CSRF token checked on unsafe requests; an enrol-only session kept to ENROL_PATHS. The user's
    row is read off the event loop at most once per CACHE_TTL, so a role change or a deactivation takes
    effect on a running server within that time (a deactivation from the console at once)."""

    def __init__(self, *, sessions: SessionStore, store: Store, clock: Callable[[], datetime],
                 ttl: timedelta = CACHE_TTL) -> None:
        self.sessions, self.store, self.clock, self.ttl = sessions, store, clock, ttl
        self._users: dict[int, tuple[Principal | None, datetime]] = {}  # insertion order is age

    async def authenticate(self, request: web.Request) -> Principal | None:
        cookie = request.cookies.get(COOKIE)
        if cookie is None:
            return None
        session_id = self.sessions.session_id(cookie)
        session = await self.sessions.load(session_id) if session_id else None
        if session is None:
            raise SessionEnded("the console session has ended; sign in again")
        principal = await self._user(session.user_id)
        if principal is None:
            await self.sessions.end_all(session.user_id)
            raise SessionEnded("the console session has ended; sign in again")
        if request.method not in SAFE_METHODS and not hmac.compare_digest(
                (await _csrf_token(request)).encode(), session.csrf_token.encode()):
            raise CsrfRefused("this request lacks the session's CSRF token (X-CSRF-Token or csrf_token)")
        if _cross_origin_socket(request):
            raise CsrfRefused("a WebSocket opened by a page of another origin may not use the console session")
        if session.enrol_only and not _enrolment_path(request.path):
            raise EnrolmentRequired("enrol a TOTP authenticator at /account first", role=principal.role.value)
        request[SessionKey] = session
        return principal

    async def _user(self, user_id: int) -> Principal | None:
        now = self.clock()
        cached = self._users.get(user_id)
        if cached is not None and now - cached[1] < self.ttl:
            return cached[0]
        principal = await asyncio.to_thread(self._look_up, user_id)
        self._users.pop(user_id, None)
        if len(self._users) >= MAX_CACHED:
            del self._users[next(iter(self._users))]
        self._users[user_id] = (principal, now)
        return principal

    def forget(self, user_id: int) -> None:
        """Read the user's row again at the next request (after the console changed it)."""
        self._users.pop(user_id, None)

    def _look_up(self, user_id: int) -> Principal | None:
        with self.store.reading() as session:
            user = session.get(User, user_id)
            return Principal(user.id, user.username, user.role) if user is not None and user.active else None


async def _csrf_token(request: web.Request) -> str:
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        field = (await request.post()).get(CSRF_FIELD)
        token = field if isinstance(field, str) else None
    return token or ""


def _cross_origin_socket(request: web.Request) -> bool:
    """A WebSocket upgrade from a page of another origin (cross-site WebSocket hijacking): the browser sends the
    cookie with it, and SameSite looks at neither the port nor, in older browsers, the scheme. A browser always
    names the page's origin; a client without one is no page."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return False
    origin = request.headers.get("Origin")
    return origin is not None and origin != f"{request.scheme}://{request.host}"


def _enrolment_path(path: str) -> bool:
    return path in ENROL_PATHS or path.startswith("/account/")


SessionAuthenticatorKey = web.AppKey("session_authenticator", SessionAuthenticator)


def set_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    response.set_cookie(COOKIE, value, path="/", httponly=True, samesite="Strict", secure=request.secure)


def clear_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")
