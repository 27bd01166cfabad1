"""The compliance reviewer's pages: the review queue with its filters, a call (the recording, the transcript
following the audio, the findings to decide), per-agent scorecards, the dial receipt of an attempt, holds.

Pages read through the same functions as the API (`console.review`, `console.holds`). What a page changes
(a decision, a hold placed or released) it changes through the API from `static/review.js`, so each write
has one path with its checks and its audit. The call page is a frame that review.js fills from
`/api/review/calls/{attempt}`: that read is the audited view of the call.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select

from cases import Store
from cases.models import Campaign, HoldKind, Role, User
from compliance.screening.categories import Category
from console.common import StoreKey
from console.holds import add_hold_routes, holds_query, read_holds, row_id
from console.library import receipt_citations, receipt_library_version
from console.pages import language, render
from console.review import (
    STATES,
    attempt_receipt,
    call_recording,
    decide,
    queue_query,
    read_queue,
    read_receipt,
    read_scorecards,
    review_call,
    review_queue,
    review_scorecards,
)

CATEGORY_NAMES = {
    Category.THREAT_VIOLENCE: ("暴力威胁", "Threat of violence"),
    Category.FALSE_LEGAL_THREAT: ("虚假法律威胁", "False legal threat"),
    Category.HARASSMENT_ABUSE: ("骚扰辱骂", "Harassment or abuse"),
    Category.THIRD_PARTY_DISCLOSURE: ("向第三方泄露", "Third-party disclosure"),
    Category.MISSING_DISCLOSURE: ("缺少必要告知", "Missing disclosure"),
    Category.CEASE_REQUEST: ("要求停止联系", "Cease request"),
    Category.DISPUTE: ("债务异议", "Dispute"),
}
SEVERITY_NAMES = {"critical": ("严重", "critical"), "high": ("高", "high"), "medium": ("中", "medium"),
                  "low": ("低", "low")}
STATUS_NAMES = {"open": ("待决定", "open"), "confirmed": ("已确认", "confirmed"),
                "false_positive": ("已驳回", "dismissed"), "needs_coaching": ("需辅导", "needs coaching")}
SPEAKER_NAMES = {"agent": ("坐席", "agent"), "debtor": ("债务人", "debtor"), "unknown": ("未知", "unknown")}
SCOPE_NAMES = {"account": ("账户", "account"), "debtor": ("债务人", "debtor"), "phone": ("电话", "phone"),
               "number": ("号码", "number")}
STATE_NAMES = {"undecided": ("待决定", "Undecided"), "decided": ("已决定", "Decided"), "all": ("全部", "All")}
HOLD_KIND_NAMES = {
    HoldKind.CEASE: ("停止联系", "cease"), HoldKind.DNC: ("勿扰名单", "do not call"),
    HoldKind.DISPUTE: ("异议", "dispute"), HoldKind.BANKRUPTCY: ("破产", "bankruptcy"),
    HoldKind.DECEASED: ("已故", "deceased"), HoldKind.LEGAL: ("法律程序", "legal"),
    HoldKind.CONSENT_REVOKED: ("撤回同意", "consent revoked"), HoldKind.NO_CALL_TIMES: ("禁呼时段", "no-call times"),
}


def _names(lang: str, names: dict[Any, tuple[str, str]]) -> dict[str, str]:
    """A vocabulary in the page's language, keyed by value (for templates and review.js)."""
    return {str(key): zh if lang == "zh" else en for key, (zh, en) in names.items()}


def _filter_choices(store: Store) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """The agents and campaigns the queue's filters offer, as (value, text)."""
    with store.reading() as session:
        agents = [(name, name) for name in session.scalars(
            select(User.username).where(User.role == Role.AGENT).order_by(User.username))]
        campaigns = [(row.id, row.name)
                     for row in session.execute(select(Campaign.id, Campaign.name).order_by(Campaign.name))]
    return agents, campaigns


def _page_links(query: dict[str, str], path: str, total: int, limit: int, offset: int) -> dict[str, str | None]:
    """The previous and next pages' links, keeping the filters."""
    def at(start: int) -> str:
        return f"{path}?{urlencode({**query, 'offset': str(start)})}"
    return {"previous": at(max(0, offset - limit)) if offset > 0 else None,
            "next": at(offset + limit) if offset + limit < total else None}


async def queue_page(request: web.Request) -> web.Response:
    asked, store = queue_query(request.query), request.app[StoreKey]
    queue = await asyncio.to_thread(read_queue, store, asked)
    agents, campaigns = await asyncio.to_thread(_filter_choices, store)
    lang = language(request)
    query = {key: value for key, value in request.query.items() if key in ("agent", "category", "campaign", "state")}
    return await render(request, "review_queue.html", queue=queue, asked=query, agents=agents, campaigns=campaigns,
                        categories=_names(lang, CATEGORY_NAMES), severities=_names(lang, SEVERITY_NAMES),
                        states={state: _names(lang, STATE_NAMES)[state] for state in STATES},
                        pages=_page_links(query, "/review", queue["total"], asked.limit, asked.offset))


async def call_page(request: web.Request) -> web.Response:
    lang = language(request)
    labels = {"categories": _names(lang, CATEGORY_NAMES), "severities": _names(lang, SEVERITY_NAMES),
              "statuses": _names(lang, STATUS_NAMES), "speakers": _names(lang, SPEAKER_NAMES)}
    return await render(request, "review_call.html", attempt_id=row_id(request, "attempt"),
                        labels=json.dumps(labels, ensure_ascii=False))


async def scorecards_page(request: web.Request) -> web.Response:
    cards = await asyncio.to_thread(read_scorecards, request.app[StoreKey])
    return await render(request, "review_scorecards.html", cards=cards,
                        categories=_names(language(request), CATEGORY_NAMES))


async def receipt_page(request: web.Request) -> web.Response:
    shown = await asyncio.to_thread(read_receipt, request.app[StoreKey], row_id(request, "attempt"))
    return await render(request, "review_receipt.html", shown=shown, cites=receipt_citations(shown["receipt"]),
                        library_version=receipt_library_version(shown["receipt"]))


async def holds_page(request: web.Request) -> web.Response:
    asked = holds_query(request.query)
    listed = await asyncio.to_thread(read_holds, request.app[StoreKey], asked)
    query = {key: value for key, value in request.query.items() if key in ("kind", "active")}
    return await render(request, "holds.html", listed=listed, asked=query,
                        kinds=_names(language(request), HOLD_KIND_NAMES), scopes=_names(language(request), SCOPE_NAMES),
                        pages=_page_links(query, "/holds", listed["total"], asked.limit, asked.offset))


def add_review_routes(app: web.Application) -> None:
    """The compliance reviewer's routes: the API (`console.review`, `console.holds`) and these pages."""
    app.router.add_get("/api/review/queue", review_queue)
    app.router.add_get("/api/review/calls/{attempt}", review_call)
    app.router.add_get("/api/review/calls/{attempt}/recording", call_recording)
    app.router.add_post("/api/review/findings/{finding}/decision", decide)
    app.router.add_get("/api/review/scorecards", review_scorecards)
    app.router.add_get("/api/attempts/{attempt}/receipt", attempt_receipt)
    add_hold_routes(app)
    app.router.add_get("/review", queue_page)
    app.router.add_get("/review/calls/{attempt}", call_page)
    app.router.add_get("/review/scorecards", scorecards_page)
    app.router.add_get("/review/attempts/{attempt}/receipt", receipt_page)
    app.router.add_get("/holds", holds_page)
