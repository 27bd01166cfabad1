"""A user's own account page: language, password change, TOTP enrolment (the secret and its otpauth URI are
shown; no QR code), sign out everywhere (`console.signin`). Enrolment takes two steps: a secret is drawn and
kept in the session, and becomes the user's only when a code from the authenticator app matches it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from aiohttp import web

from cases import Store
from cases.audit import record
from cases.models import User
from console import passwords, totp
from console.access import acting_user
from console.common import ClockKey, StoreKey
from console.errors import SessionEnded
from console.pages import form_text, render
from console.sessions import SessionKey, SessionsKey
from console.signin import SignInGuardKey, SignInPolicy, user_block

Message = tuple[str, str]  # (Chinese, English)


def _account(store: Store, user_id: int) -> dict[str, Any]:
    with store.reading() as session:
        user = session.get_one(User, user_id)
        return {"display_name": user.display_name, "has_totp": user.totp_secret is not None,
                "password_changed_at": user.password_changed_at}


async def _page(request: web.Request, *, status: int = 200, message: Message | None = None,
                error: Message | None = None) -> web.Response:
    principal, session = acting_user(request), request.get(SessionKey)
    account = await asyncio.to_thread(_account, request.app[StoreKey], principal.user_id)
    pending = session.pending_totp if session is not None else None
    return await render(request, "account.html", status=status, account=account, message=message, error=error,
                        enrol_only=session is not None and session.enrol_only, pending_secret=pending,
                        pending_uri=totp.provisioning_uri(pending, principal.username) if pending else None)


async def account_page(request: web.Request) -> web.Response:
    return await _page(request)


def _change_password(store: Store, user_id: int, current: str, new: str, now: datetime,
                     policy: SignInPolicy) -> bool | None:
    """True once changed; False for a wrong current password, counted and blocked as a failed sign-in is (a
    session left open must not let its finder guess the password at leisure); None when that user is blocked."""
    with store.session() as session:
        user = session.get_one(User, user_id, with_for_update=True)
        if user.blocked_until is not None and now < user.blocked_until:
            return None
        if not passwords.verify(user.password_hash, current):
            user.failed_signins += 1
            block = user_block(user.failed_signins, policy)
            user.blocked_until = now + block if block is not None else None
            record(session, actor=user.username, action="password.change_failed", entity="user", entity_id=user.id,
                   details={"failures": user.failed_signins, "blocked": block is not None})
            return None if block is not None else False
        passwords.set_password(session, user, new, actor=user.username, now=now)
        return True


async def change_password(request: web.Request) -> web.Response:
    form = await request.post()
    current, new, repeat = (form_text(form, name, passwords.MAX_LENGTH + 1) for name in ("current", "new", "repeat"))
    if new != repeat:
        return await _page(request, status=400, error=("两次输入的新密码不一致", "The new passwords differ"))
    principal = acting_user(request)
    try:
        changed = await asyncio.to_thread(_change_password, request.app[StoreKey], principal.user_id, current, new,
                                          request.app[ClockKey](), request.app[SignInGuardKey].policy)
    except passwords.PasswordRefused as refused:
        return await _page(request, status=400, error=(refused.zh, refused.en))
    if changed is None:  # too many wrong guesses: every session of the user ends, this one too
        await request.app[SessionsKey].end_all(principal.user_id)
        raise SessionEnded("too many wrong passwords: signed out; sign in again later")
    if not changed:
        return await _page(request, status=400, error=("当前密码不正确", "The current password is wrong"))
    session = request.get(SessionKey)
    await request.app[SessionsKey].end_all(principal.user_id, keep=session.id if session is not None else None)
    return await _page(request, message=("密码已更改；其他会话已退出", "Password changed; your other sessions are signed out"))


async def start_totp(request: web.Request) -> web.Response:
    session = request.get(SessionKey)
    if session is None:  # a bearer token: enrolment is for people at a browser
        raise web.HTTPBadRequest(reason="TOTP enrolment needs a console session")
    account = await asyncio.to_thread(_account, request.app[StoreKey], session.user_id)
    if account["has_totp"]:
        return await _page(request, status=409, error=("已设置验证器", "An authenticator is already enrolled"))
    session.pending_totp = totp.new_secret()
    await request.app[SessionsKey].save(session)
    return await _page(request)


def _enrol(store: Store, user_id: int, secret: str, step: int) -> None:
    with store.session() as session:
        user = session.get_one(User, user_id)
        user.totp_secret, user.totp_last_step = secret, step
        record(session, actor=user.username, action="user.totp_enrolled", entity="user", entity_id=user.id,
               details={"username": user.username})


async def confirm_totp(request: web.Request) -> web.Response:
    session = request.get(SessionKey)
    if session is None or session.pending_totp is None:
        return await _page(request, status=409, error=("请先开始设置验证器", "Start the enrolment first"))
    form = await request.post()
    step = totp.verify(session.pending_totp, form_text(form, "code", 16), request.app[ClockKey]())
    if step is None:
        return await _page(request, status=400, error=("验证码不正确", "The code is wrong"))
    await asyncio.to_thread(_enrol, request.app[StoreKey], session.user_id, session.pending_totp, step)
    session.pending_totp, session.enrol_only = None, False
    await request.app[SessionsKey].save(session)
    return await _page(request, message=("验证器已设置，下次登录需要验证码", "Authenticator enrolled: signing in now asks for a code"))


def add_account_routes(app: web.Application) -> None:
    app.router.add_get("/account", account_page)
    app.router.add_post("/account/password", change_password)
    app.router.add_post("/account/totp", start_totp)
    app.router.add_post("/account/totp/confirm", confirm_totp)
