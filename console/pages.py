"""The frame every console page shares: `render` (a Jinja2 template with the user, the language, `tr`, the
CSRF token and the role's navigation), the language choice, the home redirect, our static files, and the
middleware that answers a page's errors in HTML (401: the sign-in form; 403 and others: an error page).

There is no message catalogue: a template writes each text in both languages where it is used,
`{{ tr("活动", "Campaigns") }}`, and `tr` picks the request's language. The language is `?lang=` (kept in the
session and on the user), else the session's, else the browser's Accept-Language (Chinese or English).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import update

from cases import Store
from cases.models import Role, User
from console.access import ACCESS, PrincipalKey, is_api
from console.common import StoreKey
from console.errors import ApiError, EnrolmentRequired, Unauthenticated
from console.sessions import COOKIE, SessionKey, SessionsKey, clear_cookie

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
LANGUAGES = ("zh", "en")
SIGNIN_COOKIE = "dunline_signin"  # the sign-in form's CSRF token, before there is a session
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png",
                ".ico": "image/x-icon"}
STATIC_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")
# (path, Chinese, English): each shown to the roles `ACCESS` lets GET it, once the route exists.
NAV = (("/campaigns", "活动", "Campaigns"), ("/wallboard", "实时看板", "Wallboard"), ("/desk", "坐席工作台", "Desk"),
       ("/queue", "工作队列", "Work queue"), ("/tasks", "催收任务", "Tasks"), ("/templates", "话术模板", "Templates"),
       ("/reports", "报表", "Reports"),
       ("/review", "质检", "Review"), ("/holds", "暂停催收", "Holds"), ("/admin", "管理", "Admin"),
       ("/library", "法律法规库", "Legal library"), ("/account", "我的账户", "Account"))
START_PAGES = {Role.ADMIN: "/admin", Role.CAMPAIGN_MANAGER: "/campaigns", Role.SUPERVISOR: "/campaigns",
               Role.AGENT: "/desk", Role.COMPLIANCE_REVIEWER: "/review"}
ROLE_NAMES = {Role.ADMIN: ("管理员", "administrator"), Role.CAMPAIGN_MANAGER: ("活动经理", "campaign manager"),
              Role.SUPERVISOR: ("主管", "supervisor"), Role.AGENT: ("坐席", "agent"),
              Role.COMPLIANCE_REVIEWER: ("合规质检员", "compliance reviewer")}
ERROR_TEXTS = {401: ("请先登录", "Please sign in"), 403: ("无权访问", "Not allowed"), 404: ("页面不存在", "Not found"),
               405: ("不支持此操作", "Method not allowed")}

ENVIRONMENT = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                 undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class NavLink:
    href: str
    label: str
    current: bool


def tr(lang: str, zh: str, en: str) -> str:
    """The text in the request's language (templates get it bound: `tr(zh, en)`)."""
    return zh if lang == "zh" else en


def browser_language(accept_language: str) -> str:
    """zh when the browser prefers Chinese to English (the first of the two it names), else en."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def language(request: web.Request) -> str:
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        return asked
    session = request.get(SessionKey)
    if session is not None and session.lang in LANGUAGES:
        return session.lang
    return browser_language(request.headers.get("Accept-Language", ""))


async def _remember_language(request: web.Request, lang: str) -> None:
    """`?lang=` chosen by a signed-in user: kept in the session and on the user (their next sign-in)."""
    session = request.get(SessionKey)
    if session is None or session.lang == lang or request.query.get("lang") != lang:
        return
    session.lang = lang
    await request.app[SessionsKey].save(session)
    await asyncio.to_thread(_save_language, request.app[StoreKey], session.user_id, lang)


def _save_language(store: Store, user_id: int, lang: str) -> None:
    with store.session() as session:
        session.execute(update(User).where(User.id == user_id).values(language=lang))


def navigation(role: Role | None, lang: str, path: str) -> list[NavLink]:
    if role is None:
        return []
    return [NavLink(href, tr(lang, zh, en), path == href or path.startswith(href + "/"))
            for href, zh, en in NAV if role in ACCESS.get(("GET", href), frozenset())]


async def render(request: web.Request, template: str, /, *, status: int = 200, **context: Any) -> web.Response:
    """`template` rendered for this request; `context` adds to (or overrides) the frame's names."""
    lang = language(request)
    await _remember_language(request, lang)
    principal = request.get(PrincipalKey)
    session = request.get(SessionKey)
    frame: dict[str, Any] = {
        "user": principal, "lang": lang, "tr": partial(tr, lang), "path": request.path,
        "role_name": lambda role: tr(lang, *ROLE_NAMES[role]),
        "csrf_token": session.csrf_token if session is not None else "",
        "nav": navigation(principal.role if principal is not None else None, lang, request.path),
    }
    frame.update(context)
    html = ENVIRONMENT.get_template(template).render(frame)
    return web.Response(text=html, status=status, content_type="text/html")


async def signin_page(request: web.Request, *, status: int = 200, next_path: str = "/",
                      error: tuple[str, str] | None = None) -> web.Response:
    """The sign-in form. Before there is a session its CSRF token rides in a cookie of its own (SameSite
    Strict), so another site cannot sign a browser in to an account of its choosing."""
    token = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(32)
    response = await render(request, "signin.html", status=status, next_path=next_path, error=error,
                            csrf_token=token)
    response.set_cookie(SIGNIN_COOKIE, token, path="/signin", httponly=True, samesite="Strict",
                        secure=request.secure)
    return response


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(START_PAGES[request[PrincipalKey].role])


async def static_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if not STATIC_NAME.fullmatch(name) or path.suffix not in STATIC_TYPES or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": STATIC_TYPES[path.suffix], "Cache-Control": "no-cache"})


@web.middleware
async def page_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A page's refusals and errors in HTML; /api paths keep their JSON (`console.middleware`)."""
    if is_api(request.path):
        return await handler(request)
    try:
        return await handler(request)
    except Unauthenticated:
        response = await signin_page(request, status=401,
                                     next_path=request.path_qs if request.method == "GET" else "/")
        if request.cookies.get(COOKIE) is not None:
            clear_cookie(response)
        return response
    except EnrolmentRequired:
        raise web.HTTPSeeOther("/account") from None
    except ApiError as error:
        return await error_page(request, error.status, error.message)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return await error_page(request, error.status, error.reason)


async def error_page(request: web.Request, status: int, message: str) -> web.Response:
    zh, en = ERROR_TEXTS.get(status, ("出错了", "Something went wrong"))
    return await render(request, "error.html", status=status, heading=tr(language(request), zh, en), message=message)


def form_text(form: Mapping[str, object], name: str, limit: int) -> str:
    """A posted form's text field cut to `limit` (not stripped: passwords keep their spaces); "" when absent or a
    file."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def add_page_routes(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/static/{name}", static_file)
