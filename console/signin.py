"""Signing in to the console and out of it.

A sign-in checks the password (and the TOTP code, when the user has a secret) in one step and answers every
failure alike, whether the user exists or not, is blocked or not: the message, the status and the time spent
(one argon2 hash) are the same. Failures are counted per user on the user's row (every node sees them) and
per source address in this process; past the limits each further failure doubles the block (a success
clears the user's count). Sign-ins, failed sign-ins and sign-outs are audited.

A user whose role the settings name in `totp_required_roles`, or whom an administrator marked, but who has
no TOTP secret yet, signs in to an enrol-only session: `/account` to enrol, and nothing else.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import select

from cases import Store
from cases.audit import record
from cases.models import Role, User
from console import passwords, totp
from console.access import acting_user
from console.common import ClockKey, StoreKey
from console.pages import SIGNIN_COOKIE, form_text, language, signin_page
from console.sessions import SessionKey, SessionsKey, clear_cookie, set_cookie
from console.tokens import Principal
from dialer.sip.lockout import MAX_BLOCK_S, Lockout

MAX_USERNAME = 64  # the column's length
MAX_NEXT = 2000
FAILED = ("用户名、密码或验证码不正确，或失败次数过多需稍候再试。",
          "Wrong username, password or code, or too many failures: wait a little and try again.")
SOURCE_BLOCKED = ("此地址登录失败次数过多，请稍后再试。", "Too many failed sign-ins from your address: try again later.")
FORM_EXPIRED = ("表单已过期，请重新登录。", "The form expired: please sign in again.")


@dataclass(frozen=True)
class SignInPolicy:
    """Settings `totp_required_roles`, `signin_max_failures`, `signin_max_source_failures`, `signin_block_s`."""

    totp_roles: frozenset[Role] = frozenset({Role.ADMIN, Role.COMPLIANCE_REVIEWER})
    max_failures: int = 5
    max_source_failures: int = 20
    block: timedelta = timedelta(seconds=60)

    def needs_totp(self, user: User) -> bool:
        return user.totp_required or user.role in self.totp_roles


@dataclass
class SignInGuard:
    """What a process knows of sign-ins: the policy, and the per-source lockout (in memory, per process)."""

    policy: SignInPolicy
    sources: Lockout = field(init=False)

    def __post_init__(self) -> None:
        self.sources = Lockout(max_failures=self.policy.max_source_failures,
                               block_s=self.policy.block.total_seconds())


SignInGuardKey = web.AppKey("signin_guard", SignInGuard)


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    language: str | None
    enrol_only: bool


def user_block(failures: int, policy: SignInPolicy) -> timedelta | None:
    """The block a user's `failures`-th failure in a row earns: none below the limit, then the base block,
    doubled by each further failure, at most MAX_BLOCK_S."""
    if failures < policy.max_failures:
        return None
    seconds = policy.block.total_seconds() * 2 ** min(failures - policy.max_failures, 32)
    return timedelta(seconds=min(seconds, MAX_BLOCK_S))


def check_sign_in(store: Store, username: str, password: str, code: str, *, now: datetime, policy: SignInPolicy,
                  source: str) -> SignedIn | None:
    """The signed-in user, or None; counts, blocks and audits in the same transaction."""
    with store.session() as session:
        user = session.scalar(select(User).where(User.username == username).with_for_update())
        blocked = user is not None and user.blocked_until is not None and now < user.blocked_until
        good = passwords.verify(user.password_hash if user is not None and not blocked else None, password)
        step = None
        if good and user is not None and user.totp_secret is not None:
            step = totp.verify(user.totp_secret, code, now)
            good = step is not None and (user.totp_last_step is None or step > user.totp_last_step)
        if user is None or not user.active or not good:
            reason = ("unknown_user" if user is None else "deactivated" if not user.active
                      else "blocked" if blocked else "wrong_password_or_code")
            if user is not None and not blocked:
                user.failed_signins += 1
                block = user_block(user.failed_signins, policy)
                user.blocked_until = now + block if block is not None else None
            record(session, actor="anonymous", action="signin.failed", entity="user",
                   entity_id=user.id if user is not None else None,
                   details={"username": username, "source": source, "reason": reason})
            return None
        user.failed_signins, user.blocked_until = 0, None
        if step is not None:
            user.totp_last_step = step
        if user.password_hash is not None and passwords.HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        enrol_only = policy.needs_totp(user) and user.totp_secret is None
        record(session, actor=user.username, action="signin.succeeded", entity="user", entity_id=user.id,
               details={"source": source, "enrol_only": enrol_only})
        return SignedIn(Principal(user.id, user.username, user.role), user.language, enrol_only)


def record_source_blocked(store: Store, username: str, source: str) -> None:
    with store.session() as session:
        record(session, actor="anonymous", action="signin.failed", entity="user",
               details={"username": username, "source": source, "reason": "source_blocked"})


def safe_next(value: object) -> str:
    """A local path to go to after signing in; anything else (another site, `//host`, a scheme) is `/`."""
    if not isinstance(value, str) or len(value) > MAX_NEXT or not value.startswith("/") or value.startswith("//") \
            or "\\" in value or any(ord(c) < 32 for c in value) or value.startswith("/signin"):
        return "/"
    return value


async def show_signin(request: web.Request) -> web.Response:
    return await signin_page(request, next_path=safe_next(request.query.get("next", "/")))


async def sign_in(request: web.Request) -> web.Response:
    form = await request.post()
    next_path = safe_next(form.get("next"))
    username = form_text(form, "username", MAX_USERNAME).strip()
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(form_text(form, "csrf_token", 64).encode(), expected.encode()):
        return await signin_page(request, status=403, next_path=next_path, error=FORM_EXPIRED)
    app = request.app
    now, guard, store = app[ClockKey](), app[SignInGuardKey], app[StoreKey]
    source = request.remote or "unknown"
    if guard.sources.blocked_for(source, now.timestamp()) > 0:
        await asyncio.to_thread(record_source_blocked, store, username, source)
        return await signin_page(request, status=429, next_path=next_path, error=SOURCE_BLOCKED)
    signed = await asyncio.to_thread(check_sign_in, store, username,
                                     form_text(form, "password", passwords.MAX_LENGTH + 1), form_text(form, "code", 16),
                                     now=now, policy=guard.policy, source=source)
    if signed is None:
        guard.sources.failed(source, now.timestamp())
        return await signin_page(request, status=401, next_path=next_path, error=FAILED)
    sessions = app[SessionsKey]
    session = await sessions.create(signed.principal.user_id, lang=signed.language or language(request),
                                    enrol_only=signed.enrol_only)
    response = web.Response(status=303, headers={"Location": "/account" if signed.enrol_only else next_path})
    set_cookie(request, response, sessions.cookie_value(session))
    response.del_cookie(SIGNIN_COOKIE, path="/signin")
    return response


async def sign_out(request: web.Request) -> web.Response:
    principal, session = acting_user(request), request.get(SessionKey)
    if session is not None:
        await request.app[SessionsKey].end(session)
    await asyncio.to_thread(_audit, request.app[StoreKey], principal, "signout")
    response = web.Response(status=303, headers={"Location": "/signin"})
    clear_cookie(response)
    return response


async def sign_out_everywhere(request: web.Request) -> web.Response:
    principal = acting_user(request)
    ended = await request.app[SessionsKey].end_all(principal.user_id)
    await asyncio.to_thread(_audit, request.app[StoreKey], principal, "signout.everywhere", {"sessions": ended})
    response = web.Response(status=303, headers={"Location": "/signin"})
    clear_cookie(response)
    return response


def _audit(store: Store, principal: Principal, action: str, details: dict[str, object] | None = None) -> None:
    with store.session() as session:
        record(session, actor=principal.username, action=action, entity="user", entity_id=principal.user_id,
               details=details)


def add_signin_routes(app: web.Application, policy: SignInPolicy) -> None:
    app[SignInGuardKey] = SignInGuard(policy)
    app.router.add_get("/signin", show_signin)
    app.router.add_post("/signin", sign_in)
    app.router.add_post("/signout", sign_out)
    app.router.add_post("/account/signout-everywhere", sign_out_everywhere)
