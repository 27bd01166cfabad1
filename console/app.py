"""The aiohttp application: health, the read-only case API, campaigns, and the OpenAPI document.

Handlers are plain functions; dependencies travel as typed `web.AppKey`s set by the composition root.
Inputs are bounded by `console.validation`; every failure leaves as JSON through `console.middleware`.
Every /api route but the OpenAPI document needs a user and a role that may use it (`console.access`).
Personal data leaves the API masked, whatever the role.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy import text

from campaigns.desk import AgentDesk
from campaigns.events import EventBus
from campaigns.host import CampaignHost
from cases import Store
from cases.masking import mask_phone
from cases.models import utcnow
from cases.segments import CaseSummary, count_cases, list_cases
from console import campaigns
from console.access import AuthenticatorsKey, access_middleware
from console.access_review import add_access_review_routes
from console.account import add_account_routes
from console.admin import add_admin_routes
from console.assignment import add_assignment_routes
from console.payments import add_payment_routes
from console.plans import add_plan_routes
from console.reports import add_report_routes
from console.agents import add_agent_routes
from console.auth import BearerTokens
from console.campaign_pages import add_manager_routes
from console.common import ClockKey, RedisKey, StoreKey
from console.desk import add_desk_routes
from console.library import add_library_routes
from console.middleware import error_middleware
from console.metrics import add_metrics_routes
from console.pages import add_page_routes, page_errors
from console.review_pages import add_review_routes
from console.security import add_security_headers
from console.segments import segment_from_query
from console.sessions import (
    SessionAuthenticator,
    SessionAuthenticatorKey,
    SessionPolicy,
    SessionsKey,
    SessionStore,
)
from console.signin import SignInPolicy, add_signin_routes
from console.subjects import add_subject_routes
from console.validation import MAX_BODY_BYTES, integer

OPENAPI = Path(__file__).parent / "openapi.yaml"
MAX_PAGE = 500
MAX_OFFSET = 10_000_000  # past the largest portfolio planned for; deeper paging wants a narrower segment


async def health(request: web.Request) -> web.Response:
    store = request.app[StoreKey]
    checks: dict[str, str] = {}
    try:
        await asyncio.to_thread(_ping_database, store)
        checks["database"] = "ok"
    except Exception as error:  # any failure is reported, not raised: this is the health probe
        checks["database"] = f"error: {error.__class__.__name__}"
    try:
        await request.app[RedisKey].ping()
        checks["redis"] = "ok"
    except Exception as error:
        checks["redis"] = f"error: {error.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return web.json_response({"status": "ok" if healthy else "degraded", "checks": checks},
                             status=200 if healthy else 503)


def _ping_database(store: Store) -> None:
    with store.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _case_json(case: CaseSummary) -> dict[str, Any]:
    return {
        "account_id": case.account_id, "account_ref": case.account_ref, "creditor": case.creditor,
        "full_name": case.full_name, "phone": mask_phone(case.phone), "region": case.region,
        "language": case.language, "product": case.product, "currency": case.currency,
        "balance": str(case.balance), "overdue_amount": str(case.overdue_amount),
        "days_past_due": case.days_past_due, "jurisdiction": case.jurisdiction, "status": case.status,
        "last_attempt_at": case.last_attempt_at.isoformat() if case.last_attempt_at else None,
    }


async def cases_index(request: web.Request) -> web.Response:
    segment = segment_from_query(request.query)
    limit = integer(request.query.get("limit", "50"), "limit", minimum=0, maximum=MAX_PAGE)
    offset = integer(request.query.get("offset", "0"), "offset", minimum=0, maximum=MAX_OFFSET)
    store = request.app[StoreKey]

    def query() -> tuple[int, list[CaseSummary]]:
        with store.reading() as session:
            today = date.today()
            return count_cases(session, segment, today), list_cases(session, segment, today, limit=limit, offset=offset)

    total, rows = await asyncio.to_thread(query)
    return web.json_response({"total": total, "cases": [_case_json(c) for c in rows]})


def build_app(*, store: Store, redis_client: aioredis.Redis, clock: Callable[[], datetime] = utcnow,
              desk: AgentDesk | None = None, bus: EventBus | None = None,
              host: CampaignHost | None = None, session_policy: SessionPolicy = SessionPolicy(),
              signin_policy: SignInPolicy = SignInPolicy(), secret_key: bytes | None = None,
              session_prefix: str = "dunline:console") -> web.Application:
    """The console API; `desk` and `bus` when this process runs the switchboard (agents' state and events),
    `host` when it runs the campaigns (the wallboard's calls ringing and waiting, on the campaigns' clock).
    `secret_key` signs the console's session cookies (None: a random key; sessions then end with the process)."""
    app = web.Application(client_max_size=MAX_BODY_BYTES,
                          middlewares=[error_middleware, page_errors, access_middleware])
    app[StoreKey] = store
    app[RedisKey] = redis_client
    app[ClockKey] = clock
    app[SessionsKey] = SessionStore(redis=redis_client, secret=secret_key or secrets.token_bytes(32), clock=clock,
                                    policy=session_policy, prefix=session_prefix)
    app[SessionAuthenticatorKey] = SessionAuthenticator(sessions=app[SessionsKey], store=store, clock=clock)
    app[AuthenticatorsKey] = (BearerTokens(store=store, clock=clock), app[SessionAuthenticatorKey])
    add_security_headers(app)
    add_page_routes(app)  # home, static files; sign-in, sign-out and account below
    add_signin_routes(app, signin_policy)
    add_account_routes(app)
    add_admin_routes(app)  # users, tokens, rule packs, health; the server adds its `Installation`
    app.router.add_get("/healthz", health)
    app.router.add_get("/api/cases", cases_index)
    app.router.add_get("/api/openapi.yaml", openapi)
    campaigns.add_routes(app)
    add_agent_routes(app, desk, bus)
    add_metrics_routes(app)  # reads the switchboard through the desk; 503 without one
    add_manager_routes(app, desk=desk, host=host)  # campaign pages, segment count, wallboard, force-pause/log-out
    add_desk_routes(app, host=host)  # the agent desktop's case pop and wrap-up writes
    add_review_routes(app)  # the reviewer's API and pages: queue, calls, decisions, scorecards, receipts, holds
    add_library_routes(app)  # the legal library's pages
    add_access_review_routes(app)  # who viewed which debtor; CSV for auditors
    add_subject_routes(app)  # subject-access export
    add_assignment_routes(app)  # work queues, assignment runs, agents' profiles, templates
    add_payment_routes(app)  # the unmatched payments queue
    add_plan_routes(app)  # repayment plans: schedule, rescheduling
    add_report_routes(app)  # the report catalogue (JSON, CSV, XLSX)
    return app


async def openapi(request: web.Request) -> web.FileResponse:
    return web.FileResponse(OPENAPI, headers={"Content-Type": "application/yaml"})
