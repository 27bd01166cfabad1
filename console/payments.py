"""The unmatched payments queue over HTTP (JSON): the statement lines no rule could match, with their candidate
accounts, and a person's resolution — handlers a few lines over `cases.payments`. Payers' names are masked; a
resolution applies the payment and is audited under the acting user (`payment.resolve`)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from cases import Store
from cases.masking import mask_name
from cases.payments import PaymentError, resolve, unmatched_lines
from console.access import acting_user
from console.common import StoreKey, json_body
from console.errors import ApiError
from console.validation import integer, json_object, required

MAX_ROW_ID = 2**31 - 1


class NotResolvable(ApiError):
    status = 409
    error_id = "not_resolvable"


def _queue(store: Store) -> list[dict[str, Any]]:
    with store.reading() as session:
        return [{"id": row.id, "source": row.source, "txn_id": row.txn_id, "paid_at": row.paid_at.isoformat(),
                 "amount": str(row.amount), "payer": mask_name(row.payer_name), "memo": row.memo,
                 "rule": row.rule, "candidates": list(row.candidates)} for row in unmatched_lines(session)]


def _resolve(store: Store, line: int, account: int, actor: str) -> dict[str, Any]:
    with store.session() as session:
        payment = resolve(session, line, account, actor)
        session.flush()
        return {"line": line, "account_id": account, "payment_id": payment.id, "amount": str(payment.amount)}


async def unmatched(request: web.Request) -> web.Response:
    return web.json_response({"lines": await asyncio.to_thread(_queue, request.app[StoreKey])})


async def resolve_line(request: web.Request) -> web.Response:
    line = integer(request.match_info["line"], "line", minimum=1, maximum=MAX_ROW_ID)
    body = json_object(await json_body(request), "", fields=("account_id",))
    account = integer(required(body, "account_id"), "account_id", minimum=1, maximum=MAX_ROW_ID)
    try:
        answer = await asyncio.to_thread(_resolve, request.app[StoreKey], line, account,
                                         acting_user(request).username)
    except PaymentError as error:
        raise NotResolvable(str(error)) from None
    return web.json_response(answer)


def add_payment_routes(app: web.Application) -> None:
    app.router.add_get("/api/payments/unmatched", unmatched)
    app.router.add_post("/api/payments/unmatched/{line}/resolve", resolve_line)
