"""The agent desktop: its page (`/desk`), the agent's own phone and state (`GET /api/desk/me`), the case that
pops for a call (`GET /api/desk/case/{attempt}`) and what the agent records about it
(`POST /api/desk/attempts/{attempt}/disposition|promise|plan|callback|note`). The page's live part is
`console/static/desk.js`, fed by the agent's events WebSocket (`console/agents.py`).

An agent may use these for their own calls only: the call they are reserved for, on, or wrapping up on this
node's agent desk, or a closed attempt that names them as its agent; anything else is 403. Supervisors and
admins may use any attempt. Handlers check the input and call `campaigns.casepop` / `campaigns.wrapup` on a
worker thread; the rules, the writes and their audit rows are theirs. A promise is answered with its read-back
in both languages, for the agent to say to the debtor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from campaigns import casepop, wrapup
from campaigns.host import CampaignHost
from campaigns.preview import MAX_SKIP_REASON
from campaigns.runner import CampaignRunner
from campaigns.scripts import load_scripts
from campaigns.templates_store import desk_scripts
from campaigns.wrapup import Author
from cases.models import Attempt, Role
from compliance import ComplianceGate
from console.access import acting_user
from console.agents import DeskKey
from console.common import ClockKey, StoreKey, json_body
from console.errors import BadParameter, Forbidden, Unavailable
from console.pages import render
from console.tokens import Principal
from console.validation import amount, choice, integer, json_object, required, text
from ivr.terms import PLAN_COUNTS, CampaignTerms

GateKey = web.AppKey("desk_gate", ComplianceGate)
TermsKey = web.AppKey("desk_terms", CampaignTerms)
HostKey = web.AppKey("desk_host", CampaignHost)
# The floor's clock (the campaign host's: shifted on a floor started with `--at`) dates what agents record, so
# the wallboard's "promises today", which counts by the same clock, sees them; the API's own clock stays real
# where it must (TOTP, sessions).
FloorClockKey = web.AppKey("desk_floor_clock", Callable[[], datetime])
MAX_ATTEMPT_ID = 2**31 - 1  # an INTEGER key on PostgreSQL
MAX_NOTE = 2000
MONEY_PLACES = 2

# The page's words for the fixed codes (the codes themselves are campaigns.wrapup's and the desk's).
DISPOSITION_LABELS = {"promise_to_pay": ("承诺还款", "Promise to pay"), "paid": ("已还款", "Paid"),
                      "callback": ("预约回电", "Callback"), "refused": ("拒绝还款", "Refused"),
                      "hardship": ("经济困难", "Hardship"), "dispute": ("有异议", "Dispute"),
                      "wrong_party": ("非本人", "Wrong party"), "no_speak": ("无人说话", "No one spoke")}
PAUSE_REASONS = (("break", "休息", "Break"), ("lunch", "用餐", "Lunch"), ("training", "培训", "Training"),
                 ("meeting", "会议", "Meeting"), ("after_call_work", "整理记录", "After-call work"))

Work = Callable[[Session, Attempt, Author], dict[str, Any]]


def _attempt_id(request: web.Request) -> int:
    return integer(request.match_info["attempt"], "attempt", minimum=1, maximum=MAX_ATTEMPT_ID)


def _bridged(request: web.Request, principal: Principal, attempt_id: int) -> bool:
    """Whether the desk has this agent reserved for, on, or wrapping up on this attempt now."""
    desk = request.app.get(DeskKey)
    agent = desk.pool.agents.get(principal.username) if desk is not None else None
    return agent is not None and agent.call_id == str(attempt_id)


def _may_use(principal: Principal, attempt: Attempt, bridged: bool) -> None:
    if principal.role is Role.AGENT and not bridged and attempt.agent_id != principal.user_id:
        raise Forbidden("an agent may use the cases of their own calls only", role=principal.role.value)


async def case(request: web.Request) -> web.Response:
    attempt_id, principal = _attempt_id(request), acting_user(request)
    bridged = _bridged(request, principal, attempt_id)
    store, now = request.app[StoreKey], request.app[FloorClockKey]()

    def pop() -> dict[str, Any]:
        with store.reading() as session:
            attempt = wrapup.attempt_of(session, attempt_id)
            _may_use(principal, attempt, bridged)
            document = casepop.case_pop(session, attempt, now=now, agent=principal.username,
                                        scripts=desk_scripts(session))
        with store.session() as session:  # the view is answered only once its audit row is written
            casepop.record_view(session, account_id=document["attempt"]["account_id"], attempt_id=attempt_id,
                                actor=principal.username)
        return document
    return web.json_response(await asyncio.to_thread(pop))


async def _write(request: web.Request, work: Work) -> web.Response:
    attempt_id, principal = _attempt_id(request), acting_user(request)
    bridged = _bridged(request, principal, attempt_id)
    store, author = request.app[StoreKey], Author(principal.user_id, principal.username)

    def run() -> dict[str, Any]:
        with store.session() as session:
            attempt = wrapup.attempt_of(session, attempt_id)
            _may_use(principal, attempt, bridged)
            return work(session, attempt, author)
    return web.json_response(await asyncio.to_thread(run), status=201)


def _day(raw: object, name: str) -> date:
    try:
        return date.fromisoformat(text(raw, name, min_length=10, max_length=10))
    except ValueError:
        raise BadParameter(name, "expected a date YYYY-MM-DD") from None


def _moment(raw: object, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text(raw, name, min_length=16, max_length=40))
    except ValueError:
        raise BadParameter(name, "expected a date and time with its UTC offset (ISO 8601)") from None
    if moment.tzinfo is None:
        raise BadParameter(name, "needs a UTC offset, such as +08:00 or Z")
    return moment


def _money(raw: object, name: str) -> Decimal:
    value = amount(raw, name, minimum=Decimal(0))
    if -value.as_tuple().exponent > MONEY_PLACES:  # type: ignore[operator]
        raise BadParameter(name, f"at most {MONEY_PLACES} decimal places")
    return value


def _read_back(amount_due: Decimal, currency: str, day: date) -> dict[str, str]:
    text_of = load_scripts().read_back
    zh = text_of.filled(amount=f"{amount_due:.2f}", currency=currency, date=f"{day.year}年{day.month}月{day.day}日").zh
    en = text_of.filled(amount=f"{amount_due:.2f}", currency=currency, date=f"{day.day} {day:%B %Y}").en
    return {"zh": zh, "en": en}


async def disposition(request: web.Request) -> web.Response:
    body = json_object(await json_body(request), "", fields=("code",))
    code = choice(required(body, "code"), "code", wrapup.DISPOSITIONS)
    now = request.app[FloorClockKey]()

    def work(session: Session, attempt: Attempt, author: Author) -> dict[str, Any]:
        wrapup.dispose(session, attempt, code, author=author, now=now)
        return {"attempt_id": attempt.id, "disposition": code}
    return await _write(request, work)


async def promise(request: web.Request) -> web.Response:
    body = json_object(await json_body(request), "", fields=("amount", "promised_for"))
    amount_due, day = _money(required(body, "amount"), "amount"), _day(required(body, "promised_for"), "promised_for")
    now, terms = request.app[FloorClockKey](), request.app[TermsKey]

    def work(session: Session, attempt: Attempt, author: Author) -> dict[str, Any]:
        made = wrapup.add_promise(session, attempt, amount_due, day, author=author, now=now, terms=terms)
        currency = wrapup.account_of(session, attempt).currency
        return {"promise": {"id": made.id, "account_id": made.account_id, "attempt_id": made.attempt_id,
                            "amount": f"{made.amount:.2f}", "currency": currency,
                            "promised_for": made.promised_for.isoformat(), "status": made.status.value},
                "read_back": _read_back(made.amount, currency, made.promised_for)}
    return await _write(request, work)


async def plan(request: web.Request) -> web.Response:
    body = json_object(await json_body(request), "", fields=("installments",))
    count = integer(required(body, "installments"), "installments", minimum=1, maximum=120)
    today = request.app[FloorClockKey]().date()

    def work(session: Session, attempt: Attempt, author: Author) -> dict[str, Any]:
        made = wrapup.add_plan(session, attempt, count, author=author, today=today)
        return {"plan": {"id": made.id, "account_id": made.account_id, "total_amount": f"{made.total_amount:.2f}",
                         "status": made.status.value,
                         "installments": [{"seq": i.seq, "due_date": i.due_date.isoformat(),
                                           "amount": f"{i.amount:.2f}"} for i in made.installments]}}
    return await _write(request, work)


async def callback(request: web.Request) -> web.Response:
    body = json_object(await json_body(request), "", fields=("at",))
    at, now = _moment(required(body, "at"), "at"), request.app[FloorClockKey]()
    gate = request.app[GateKey]

    def work(session: Session, attempt: Attempt, author: Author) -> dict[str, Any]:
        note = wrapup.add_callback(session, gate, attempt, at, author=author, now=now)
        return {"callback": {"at": at.isoformat(), "note_id": note.id, "account_id": note.account_id}}
    return await _write(request, work)


async def note(request: web.Request) -> web.Response:
    body = json_object(await json_body(request), "", fields=("text",))
    words = text(required(body, "text"), "text", min_length=1, max_length=MAX_NOTE)

    def work(session: Session, attempt: Attempt, author: Author) -> dict[str, Any]:
        made = wrapup.add_note(session, attempt, words, author=author)
        return {"note": {"id": made.id, "account_id": made.account_id, "attempt_id": made.attempt_id}}
    return await _write(request, work)


async def me(request: web.Request) -> web.Response:
    """The signed-in user's own desk: their state, whether their phone is registered, and its nailed-up leg
    (down, connecting, idle, bridged). A read only: the serving process ticks the desk (`AgentDesk.run`)."""
    name = acting_user(request).username
    desk = request.app.get(DeskKey)
    if desk is None:
        raise Unavailable("this process runs no agent desk (no switchboard); ask the `dunline serve` node")
    state, leg = desk.state(name), desk.board.agents.get(name)
    return web.json_response({"agent": name, "state": state.state.value, "reason": state.reason,
                              "phone_up": state.phone_up, "leg": leg.state.value if leg is not None else "down",
                              "registered": desk.board.registered(name) is not None, "wrap_s": desk.wrap_s})


def _previewing(request: web.Request) -> tuple[CampaignRunner, str]:
    """The preview campaign serving the signed-in agent on this node, and the agent's name."""
    host, desk = request.app.get(HostKey), request.app.get(DeskKey)
    if host is None or desk is None:
        raise Unavailable("this process runs no campaigns (no switchboard); ask the `dunline serve` node")
    name = acting_user(request).username
    return host.previewing(name, desk.groups_of(name)), name


async def preview_next(request: web.Request) -> web.Response:
    """The case this agent is offered (kept for them until they dial or skip it), masked as the case pop is,
    with the gate's decision on dialling it now; `{"preview": null}` when the campaign has no lead for now."""
    runner, name = _previewing(request)
    lead = await runner.offer(name)
    if lead is None:
        return web.json_response({"preview": None})
    store, now = request.app[StoreKey], runner.clock()

    def pop() -> dict[str, Any]:
        decision = runner.hopper.gate.check(lead.account_id, lead.phone_id, now, runner.hopper.facts)
        with store.reading() as session:
            document = casepop.preview_pop(session, lead, decision, campaign_id=runner.campaign_id, now=now,
                                           agent=name, scripts=desk_scripts(session),
                                           recorded=runner.board.recordings is not None)
        with store.session() as session:  # answered only once its audit row is written
            casepop.record_view(session, account_id=lead.account_id, attempt_id=None, actor=name)
        return document
    return web.json_response(await asyncio.to_thread(pop))


def _account(request: web.Request) -> int:
    return integer(request.match_info["account"], "account", minimum=1, maximum=MAX_ATTEMPT_ID)


async def preview_dial(request: web.Request) -> web.Response:
    """Dial the offered case, for this agent: the gate decides again as the attempt is written."""
    account_id = _account(request)
    runner, name = _previewing(request)
    attempt_id = await runner.dial_for(name, account_id)
    return web.json_response({"attempt_id": attempt_id, "account_id": account_id}, status=201)


async def preview_skip(request: web.Request) -> web.Response:
    account_id = _account(request)
    body = json_object(await json_body(request), "", fields=("reason",))
    reason = text(required(body, "reason"), "reason", min_length=1, max_length=MAX_SKIP_REASON)
    runner, name = _previewing(request)
    await runner.skip(name, account_id, reason)
    return web.json_response({"account_id": account_id, "skipped": True, "reason": reason})


async def page(request: web.Request) -> web.Response:
    desk = request.app.get(DeskKey)
    return await render(request, "desk.html", agent=acting_user(request).username,
                        wrap_s=desk.wrap_s if desk is not None else 0, reasons=PAUSE_REASONS,
                        dispositions=[(code, *DISPOSITION_LABELS[code]) for code in wrapup.DISPOSITIONS],
                        plan_counts=PLAN_COUNTS)


def add_desk_routes(app: web.Application, *, host: CampaignHost | None = None,
                    terms: CampaignTerms = CampaignTerms()) -> None:
    """Needs the store set on `app`; the live-call check reads the agent desk when the process has one, and
    preview dialling the campaign host (the serving node's)."""
    app[GateKey], app[TermsKey] = ComplianceGate(app[StoreKey]), terms
    app[FloorClockKey] = host.clock if host is not None else app[ClockKey]
    if host is not None:
        app[HostKey] = host
    app.router.add_get("/desk", page)
    app.router.add_get("/api/desk/me", me)
    app.router.add_get("/api/desk/case/{attempt}", case)
    for name, handler in (("disposition", disposition), ("promise", promise), ("plan", plan),
                          ("callback", callback), ("note", note)):
        app.router.add_post(f"/api/desk/attempts/{{attempt}}/{name}", handler)
    app.router.add_get("/api/desk/preview/next", preview_next)
    app.router.add_post("/api/desk/preview/{account}/dial", preview_dial)
    app.router.add_post("/api/desk/preview/{account}/skip", preview_skip)
