"""Holds over HTTP (JSON): list, place on an account or its debtor, release with a reason — the same service
calls as `dunline holds` (`compliance.holds`), each change audited there under the acting user.

A hold on a phone number shows the number masked; the list names accounts and debtors by their references.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.attempts import clear_email_bounce
from cases import Store
from cases.masking import mask_phone
from cases.models import Account, Debtor, Hold, HoldKind, Phone
from compliance.holds import HoldError, place_hold, release_hold
from console.access import acting_user
from console.common import ClockKey, StoreKey, json_body
from console.errors import ApiError, BadParameter
from console.validation import choice, integer, json_object, optional_text, required, text

MAX_ROW_ID = 2**31 - 1  # an INTEGER key on PostgreSQL
MAX_PAGE = 200
MAX_OFFSET = 1_000_000
MAX_REASON = 1000
ACTIVE = {"true": True, "false": False, "all": None}
SCOPES = ("account", "debtor")
FIELDS = ("account", "kind", "scope", "note", "until", "schedule")
SCHEDULE_FIELDS = ("weekdays", "start", "end")


def row_id(request: web.Request, name: str) -> int:
    """A row id from the path, bounded before it reaches the database."""
    return integer(request.match_info[name], name, minimum=1, maximum=MAX_ROW_ID)


def reason_of(body: dict[str, Any]) -> str:
    """Why a person decided (a finding) or acted (a hold released): required, and not blank."""
    reason = text(required(body, "reason"), "reason", max_length=MAX_REASON).strip()
    if not reason:
        raise BadParameter("reason", "is required: say why")
    return reason


class NotBounced(ApiError):
    """An e-mail address cleared that was not marked bounced."""

    status = 409
    error_id = "not_bounced"


class HoldRefused(ApiError):
    """The hold service refused: a hold already released, a schedule on the wrong kind, an end before the start."""

    status = 409
    error_id = "hold_refused"


def _scope(hold: Hold, accounts: dict[int, str], debtors: dict[int, str], phones: dict[int, str]) -> dict[str, Any]:
    if hold.account_id is not None:
        return {"type": "account", "id": hold.account_id, "label": accounts.get(hold.account_id)}
    if hold.debtor_id is not None:
        return {"type": "debtor", "id": hold.debtor_id, "label": debtors.get(hold.debtor_id)}
    if hold.phone_id is not None:
        return {"type": "phone", "id": hold.phone_id, "label": mask_phone(phones.get(hold.phone_id))}
    return {"type": "number", "id": None, "label": mask_phone(hold.e164)}


def _labels(session: Session, key: Any, label: Any, ids: set[int | None]) -> dict[int, str]:
    """`label` of the rows whose `key` is among `ids`."""
    wanted = {i for i in ids if i is not None}
    return {row[0]: row[1] for row in session.execute(select(key, label).where(key.in_(wanted)))} if wanted else {}


def _holds_json(session: Session, holds: list[Hold]) -> list[dict[str, Any]]:
    accounts = _labels(session, Account.id, Account.account_ref, {h.account_id for h in holds})
    debtors = _labels(session, Debtor.id, Debtor.external_ref, {h.debtor_id for h in holds})
    phones = _labels(session, Phone.id, Phone.e164, {h.phone_id for h in holds})
    return [{"id": h.id, "kind": h.kind.value, "scope": _scope(h, accounts, debtors, phones),
             "starts_at": h.starts_at.isoformat(), "ends_at": h.ends_at.isoformat() if h.ends_at else None,
             "schedule": h.schedule, "source": h.source, "note": h.note, "created_by": h.created_by,
             "released_at": h.released_at.isoformat() if h.released_at else None, "released_by": h.released_by}
            for h in holds]


@dataclass(frozen=True)
class HoldsQuery:
    kind: HoldKind | None
    active: bool | None  # True: not released; False: released; None: both
    limit: int
    offset: int


def holds_query(query: Mapping[str, str]) -> HoldsQuery:
    return HoldsQuery(
        kind=HoldKind(choice(query["kind"], "kind", [k.value for k in HoldKind])) if query.get("kind") else None,
        active=ACTIVE[choice(query.get("active", "true"), "active", ACTIVE)],
        limit=integer(query.get("limit", "50"), "limit", minimum=1, maximum=MAX_PAGE),
        offset=integer(query.get("offset", "0"), "offset", minimum=0, maximum=MAX_OFFSET))


def read_holds(store: Store, asked: HoldsQuery) -> dict[str, Any]:
    """{total, holds}: one page of holds, newest first."""
    conditions = []
    if asked.kind is not None:
        conditions.append(Hold.kind == asked.kind)
    if asked.active is not None:
        conditions.append(Hold.released_at.is_(None) if asked.active else Hold.released_at.is_not(None))
    with store.reading() as session:
        total = session.scalar(select(func.count()).select_from(Hold).where(*conditions))
        holds = list(session.scalars(select(Hold).where(*conditions).order_by(Hold.id.desc())
                                     .limit(asked.limit).offset(asked.offset)))
        return {"total": total, "holds": _holds_json(session, holds)}


async def holds_index(request: web.Request) -> web.Response:
    asked = holds_query(request.query)
    return web.json_response(await asyncio.to_thread(read_holds, request.app[StoreKey], asked))


def _until(raw: object) -> datetime | None:
    if raw is None:
        return None
    try:
        until = datetime.fromisoformat(text(raw, "until", max_length=40))
    except ValueError:
        raise BadParameter("until", "expected an ISO 8601 date and time, e.g. 2026-12-31T18:00:00+08:00") from None
    return until.astimezone(timezone.utc) if until.tzinfo else until.replace(tzinfo=timezone.utc)


async def holds_place(request: web.Request) -> web.Response:
    actor = acting_user(request).username
    body = json_object(await json_body(request), "", fields=FIELDS)
    reference = text(required(body, "account"), "account", min_length=1, max_length=64)
    kind = HoldKind(choice(required(body, "kind"), "kind", [k.value for k in HoldKind]))
    scope = choice(body.get("scope", "account"), "scope", SCOPES)
    note = optional_text(body.get("note"), "note", max_length=MAX_REASON)
    until = _until(body.get("until"))
    schedule = None if body.get("schedule") is None else json_object(body["schedule"], "schedule",
                                                                        fields=SCHEDULE_FIELDS)
    store, now = request.app[StoreKey], request.app[ClockKey]()

    def place() -> dict[str, Any]:
        with store.session() as session:
            account = session.scalar(select(Account).where(Account.account_ref == reference))
            if account is None:
                raise BadParameter("account", "no account with this reference")
            where = {"account_id": account.id} if scope == "account" else {"debtor_id": account.debtor_id}
            try:
                hold = place_hold(session, kind=kind, actor=actor, source="console", starts_at=now, ends_at=until,
                                  schedule=schedule, note=note, **where)
            except HoldError as error:
                raise HoldRefused(str(error)) from None
            return _holds_json(session, [hold])[0]
    return web.json_response(await asyncio.to_thread(place), status=201)


async def holds_release(request: web.Request) -> web.Response:
    hold_id, actor = row_id(request, "hold"), acting_user(request).username
    reason = reason_of(await json_body(request))
    store = request.app[StoreKey]

    def release() -> dict[str, Any] | None:
        with store.session() as session:
            if session.get(Hold, hold_id) is None:
                return None
            try:
                hold = release_hold(session, hold_id, actor=actor, note=reason)
            except HoldError as error:
                raise HoldRefused(str(error)) from None
            return _holds_json(session, [hold])[0]
    released = await asyncio.to_thread(release)
    if released is None:
        raise web.HTTPNotFound(reason=f"no hold {hold_id}")
    return web.json_response(released)


async def email_ok(request: web.Request) -> web.Response:
    """Clear the bounce mark on the account's debtor's e-mail address (like a hold released, a channel reopens)."""
    reference = text(request.match_info["account"], "account", min_length=1, max_length=64)
    body = json_object(await json_body(request), "", fields=("note",))
    note = optional_text(body.get("note"), "note", max_length=MAX_REASON)
    store, actor = request.app[StoreKey], acting_user(request).username

    def clear() -> dict[str, Any] | None:
        with store.session() as session:
            account_id = session.scalar(select(Account.id).where(Account.account_ref == reference))
            if account_id is None:
                return None
            if not clear_email_bounce(session, account_id, actor=actor, note=note):
                raise NotBounced(f"account {reference}: its debtor's e-mail address is not marked bounced")
            return {"account": reference, "email_bounced": False}
    cleared = await asyncio.to_thread(clear)
    if cleared is None:
        raise web.HTTPNotFound(reason=f"no account {reference}")
    return web.json_response(cleared)


def add_hold_routes(app: web.Application) -> None:
    app.router.add_post("/api/accounts/{account}/email-ok", email_ok)
    app.router.add_get("/api/holds", holds_index)
    app.router.add_post("/api/holds", holds_place)
    app.router.add_post("/api/holds/{hold}/release", holds_release)
