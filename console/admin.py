"""The administrator's pages: operators and roles (add, change role, deactivate, reset password, require or
remove TOTP, show an agent's SIP password once), API tokens (mint, shown once; list; revoke), the rule packs
(read-only, with their sources) and the system's health (database, Redis, trunk, workers, disk).

Every change is audited under the acting administrator (`console.users`, `console.tokens`); showing a SIP
password is audited too. What the console cannot know itself (the SIP secret, the workers, the data dir) the
composition root hands over as an `Installation`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cases import Store
from cases.audit import record
from cases.models import ApiToken, Role, User
from compliance.rulepack import load_packs
from console import passwords, tokens, users
from console.access import acting_user
from console.agents import DeskKey
from console.common import ClockKey, RedisKey, StoreKey
from console.library import pack_citations
from console.pages import ROLE_NAMES, form_text, render
from console.sessions import SessionAuthenticatorKey, SessionsKey
from console.tokens import Principal

Message = tuple[str, str]  # (Chinese, English)
MAX_TOKEN_DAYS = 3650


@dataclass(frozen=True)
class Installation:
    """What the composition root tells the admin pages (the console does not import `dunline`)."""

    data_dir: Path | None = None
    sip_password: Callable[[str], str | None] | None = None  # an operator's SIP password; None: no phone
    sip_server: str = ""  # host:port agents' phones register with
    workers: Callable[[], tuple[int, int]] | None = None  # (alive, configured) transcription workers


InstallationKey = web.AppKey("installation", Installation)


def _installation(request: web.Request) -> Installation:
    return request.app[InstallationKey] if InstallationKey in request.app else Installation()


def _users(store: Store) -> list[User]:
    with store.reading() as session:
        found = list(session.scalars(select(User).order_by(User.username)))
        session.expunge_all()
        return found


async def users_page(request: web.Request, *, status: int = 200, message: Message | None = None,
                     error: Message | None = None, shown: dict[str, str] | None = None) -> web.Response:
    rows = await asyncio.to_thread(_users, request.app[StoreKey])
    return await render(request, "admin_users.html", status=status, users=rows, roles=list(Role),
                        role_names=ROLE_NAMES, message=message, error=error, shown=shown, now=request.app[ClockKey]())


async def users_index(request: web.Request) -> web.Response:
    return await users_page(request)


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise users.UserError("没有这个角色", f"no role {value!r}") from None


async def add_user(request: web.Request) -> web.Response:
    form = await request.post()
    admin = acting_user(request)
    username, name = form_text(form, "username", 64).strip(), form_text(form, "display_name", 200).strip()
    password = form_text(form, "password", passwords.MAX_LENGTH + 1)
    now = request.app[ClockKey]()

    def create(session: Session) -> int:
        user = users.create(session, username=username, display_name=name, role=_role(form_text(form, "role", 32)),
                            actor=admin.username)
        if password:
            passwords.set_password(session, user, password, actor=admin.username, now=now)
        return user.id
    return await _change(request, create, (f"已添加用户 {username}", f"User {username} added"))


async def _change(request: web.Request, change: Callable[[Session], int], done: Message, *,
                  shown: dict[str, str] | None = None, end_sessions: bool = False) -> web.Response:
    """Run `change` (it returns the id of the user it changed) in one transaction, make the console read that
    user again (and with `end_sessions`, end their sessions unless they are the acting admin); the users page
    with the outcome."""
    store = request.app[StoreKey]

    def run() -> int:
        with store.session() as session:
            return change(session)
    try:
        user_id = await asyncio.to_thread(run)
    except (users.UserError, passwords.PasswordRefused) as refused:
        return await users_page(request, status=400, error=(refused.zh, refused.en))
    request.app[SessionAuthenticatorKey].forget(user_id)
    if end_sessions and user_id != acting_user(request).user_id:
        await request.app[SessionsKey].end_all(user_id)
    return await users_page(request, message=done, shown=shown)


async def user_action(request: web.Request) -> web.Response:
    username, action = request.match_info["user"], request.match_info["action"]
    if action not in USER_ACTIONS:
        raise web.HTTPNotFound()
    return await USER_ACTIONS[action](request, username, acting_user(request))


async def _role_action(request: web.Request, username: str, admin: Principal) -> web.Response:
    role = form_text(await request.post(), "role", 32)

    def change(session: Session) -> int:
        user = users.find(session, username)
        users.change_role(session, user, _role(role), actor=admin.username)
        return user.id
    return await _change(request, change, (f"{username} 的角色已更改", f"{username}'s role changed"))


async def _active_action(request: web.Request, username: str, admin: Principal) -> web.Response:
    active = form_text(await request.post(), "active", 1) == "1"

    def change(session: Session) -> int:
        user = users.find(session, username)
        if user.id == admin.user_id and not active:
            raise users.UserError("不能停用自己", "you cannot deactivate yourself")
        users.set_active(session, user, active, actor=admin.username)
        return user.id
    done = (f"{username} 已启用", f"{username} activated") if active else \
        (f"{username} 已停用，其会话已结束", f"{username} deactivated; their sessions are ended")
    return await _change(request, change, done, end_sessions=not active)


async def _password_action(request: web.Request, username: str, admin: Principal) -> web.Response:
    password = form_text(await request.post(), "password", passwords.MAX_LENGTH + 1)
    now = request.app[ClockKey]()

    def change(session: Session) -> int:
        user = users.find(session, username)
        passwords.set_password(session, user, password, actor=admin.username, now=now)
        return user.id
    return await _change(request, change, (f"{username} 的密码已重设，其会话已结束",
                                           f"{username}'s password reset; their sessions are ended"),
                         end_sessions=True)


async def _totp_action(request: web.Request, username: str, admin: Principal) -> web.Response:
    what = form_text(await request.post(), "totp", 16)

    def change(session: Session) -> int:
        user = users.find(session, username)
        if what == "remove":
            users.remove_totp(session, user, actor=admin.username)
        else:
            users.require_totp(session, user, what == "require", actor=admin.username)
        return user.id
    return await _change(request, change, (f"{username} 的验证器设置已更改", f"{username}'s TOTP setting changed"))


async def _sip_action(request: web.Request, username: str, admin: Principal) -> web.Response:
    installation = _installation(request)
    if installation.sip_password is None:
        return await users_page(request, status=503,
                                error=("此进程不知道 SIP 密钥", "This process does not know the SIP secret"))
    sip_password = installation.sip_password
    shown: dict[str, str] = {}

    def change(session: Session) -> int:
        user = users.find(session, username)
        password = sip_password(username)
        if password is None:
            raise users.UserError(f"{username} 没有话机", f"{username} has no phone (agents and supervisors do)")
        record(session, actor=admin.username, action="user.sip_password_shown", entity="user", entity_id=user.id,
               details={"username": username})
        shown.update(username=username, password=password, server=installation.sip_server)
        return user.id
    return await _change(request, change, (f"{username} 的 SIP 密码（仅显示这一次）",
                                           f"{username}'s SIP password (shown this once)"), shown=shown)


USER_ACTIONS = {"role": _role_action, "active": _active_action, "password": _password_action,
                "totp": _totp_action, "sip-password": _sip_action}


@dataclass(frozen=True)
class TokenRow:
    id: int
    username: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    state: str


def _tokens(store: Store, now: datetime) -> tuple[list[TokenRow], list[str]]:
    with store.reading() as session:
        rows = [TokenRow(token.id, username, token.created_at, token.expires_at, token.last_used_at,
                         tokens.state(token, now))
                for token, username in session.execute(select(ApiToken, User.username)
                                                       .join(User, User.id == ApiToken.user_id)
                                                       .order_by(ApiToken.id.desc()))]
        names = list(session.scalars(select(User.username).where(User.active).order_by(User.username)))
    return rows, names


async def tokens_page(request: web.Request, *, status: int = 200, message: Message | None = None,
                      error: Message | None = None, minted: tokens.MintedToken | None = None) -> web.Response:
    rows, names = await asyncio.to_thread(_tokens, request.app[StoreKey], request.app[ClockKey]())
    return await render(request, "admin_tokens.html", status=status, tokens=rows, usernames=names, message=message,
                        error=error, minted=minted)


async def tokens_index(request: web.Request) -> web.Response:
    return await tokens_page(request)


async def mint_token(request: web.Request) -> web.Response:
    form = await request.post()
    username, days = form_text(form, "username", 64).strip(), form_text(form, "days", 8).strip()
    if days and not (days.isascii() and days.isdigit() and 1 <= int(days) <= MAX_TOKEN_DAYS):
        return await tokens_page(request, status=400, error=(f"天数须在 1 到 {MAX_TOKEN_DAYS} 之间",
                                                             f"days must be 1 to {MAX_TOKEN_DAYS}"))
    admin, store, now = acting_user(request), request.app[StoreKey], request.app[ClockKey]()

    def mint() -> tokens.MintedToken:
        with store.session() as session:
            return tokens.mint(session, tokens.find_user(session, username), actor=admin.username, now=now,
                               days=int(days) if days else None)
    try:
        minted = await asyncio.to_thread(mint)
    except tokens.TokenError as refused:
        return await tokens_page(request, status=400, error=(str(refused), str(refused)))
    return await tokens_page(request, minted=minted,
                             message=(f"已为 {username} 生成令牌（仅显示这一次）", f"Token minted for {username} (shown this once)"))


async def revoke_token(request: web.Request) -> web.Response:
    reference = request.match_info["token"]
    if not (reference.isascii() and reference.isdigit() and 1 <= int(reference) <= tokens.MAX_TOKEN_ID):
        raise web.HTTPNotFound()
    admin, store, now = acting_user(request), request.app[StoreKey], request.app[ClockKey]()

    def revoke() -> None:
        with store.session() as session:
            tokens.revoke(session, int(reference), actor=admin.username, now=now)
    try:
        await asyncio.to_thread(revoke)
    except tokens.TokenError as refused:
        return await tokens_page(request, status=409, error=(str(refused), str(refused)))
    return await tokens_page(request, message=(f"令牌 {reference} 已吊销", f"Token {reference} revoked"))


async def rulepacks_page(request: web.Request) -> web.Response:
    packs = await asyncio.to_thread(load_packs)
    shown = [(packs[name], [(field.name, getattr(packs[name].rules, field.name))
                            for field in dataclasses.fields(packs[name].rules) if field.name != "calling_window"])
             for name in sorted(packs)]
    return await render(request, "admin_rulepacks.html", packs=shown, citations=await asyncio.to_thread(pack_citations))


@dataclass(frozen=True)
class Check:
    name: Message
    healthy: bool | None  # None: not known here
    detail: str


def _database(store: Store) -> None:
    with store.reading() as session:
        session.execute(text("SELECT 1"))


async def health_page(request: web.Request) -> web.Response:
    installation, checks = _installation(request), []
    try:
        await asyncio.to_thread(_database, request.app[StoreKey])
        checks.append(Check(("数据库", "Database"), True, request.app[StoreKey].backend))
    except Exception as error:  # any failure is what this page reports
        checks.append(Check(("数据库", "Database"), False, type(error).__name__))
    try:
        await request.app[RedisKey].ping()
        checks.append(Check(("Redis", "Redis"), True, "ping"))
    except Exception as error:
        checks.append(Check(("Redis", "Redis"), False, type(error).__name__))
    checks.append(_trunk(request))
    if installation.workers is not None:
        alive, wanted = installation.workers()
        checks.append(Check(("转写进程", "Transcription workers"), alive >= wanted, f"{alive} / {wanted}"))
    if installation.data_dir is not None:
        usage = shutil.disk_usage(installation.data_dir)
        free = usage.free / usage.total if usage.total else 0.0
        checks.append(Check(("数据目录剩余空间", "Data dir free space"), free >= 0.1,
                            f"{usage.free / 2**30:.1f} GiB ({free:.0%}) {installation.data_dir}"))
    return await render(request, "admin_health.html", checks=checks)


def _trunk(request: web.Request) -> Check:
    name = ("运营商中继", "Trunk")
    if DeskKey not in request.app:
        return Check(name, None, "-")
    board = request.app[DeskKey].board
    if board.trunk is None:
        return Check(name, None, "none configured")
    address = f"{board.trunk.host}:{board.trunk.port} ({board.trunk.transport})"
    return Check(name, board.trunk_alive, address)


def add_admin_routes(app: web.Application) -> None:
    app.router.add_get("/admin", users_index)
    app.router.add_post("/admin/users", add_user)
    app.router.add_post("/admin/users/{user}/{action}", user_action)
    app.router.add_get("/admin/tokens", tokens_index)
    app.router.add_post("/admin/tokens", mint_token)
    app.router.add_post("/admin/tokens/{token}/revoke", revoke_token)
    app.router.add_get("/admin/rulepacks", rulepacks_page)
    app.router.add_get("/admin/health", health_page)
