"""Repayment plans over HTTP (JSON): a plan's schedule, and its rescheduling within the creditor's limits —
handlers a few lines over `cases.plans`, as `dunline plans show|reschedule`. The rescheduling is dated by the
API's clock and audited under the acting user; managers (campaign writers) may do it, as with payments."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from campaigns.repayment import OutsideLimits as Refused, limits_for, load_limits, respread
from cases import Store
from cases.models import Account, RepaymentPlan
from cases.plans import PlanError, reschedule, schedule_of
from cases.statements import EXAMPLES
from console.access import acting_user
from console.common import ClockKey, StoreKey, json_body
from console.errors import ApiError
from console.validation import integer, json_object, required, text

MAX_ROW_ID = 2**31 - 1
LIMITS = EXAMPLES / "plan-limits.yaml"


class NoSuchPlan(ApiError):
    status = 404
    error_id = "no_plan"


class OutsideLimits(ApiError):
    status = 422
    error_id = "outside_limits"


def _answer(plan: RepaymentPlan) -> dict[str, Any]:
    return {"id": plan.id, "account_id": plan.account_id, "status": str(plan.status),
            "total_amount": f"{plan.total_amount:.2f}", "installments": schedule_of(plan)}


def _show(store: Store, plan_id: int) -> dict[str, Any]:
    with store.reading() as session:
        plan = session.get(RepaymentPlan, plan_id)
        if plan is None:
            raise NoSuchPlan(f"no repayment plan {plan_id}")
        return _answer(plan)


def _reschedule(store: Store, plan_id: int, monthly: Decimal, actor: str, author_id: int | None,
                today: date) -> dict[str, Any]:
    with store.session() as session:
        plan = session.get(RepaymentPlan, plan_id)
        if plan is None:
            raise NoSuchPlan(f"no repayment plan {plan_id}")
        account = session.get(Account, plan.account_id)
        try:
            limits = limits_for(load_limits(LIMITS), account.creditor, account.product.value)
            return _answer(reschedule(session, plan_id, respread(monthly, limits, today), actor=actor,
                                      author_id=author_id, details={"monthly": str(monthly)}))
        except PlanError as error:
            raise OutsideLimits(str(error), field=error.field, **error.bounds) from None
        except Refused as error:
            raise OutsideLimits(str(error), field=error.refusal.field, **error.refusal.bounds) from None
        except LookupError as error:
            raise OutsideLimits(str(error)) from None


async def show(request: web.Request) -> web.Response:
    plan = integer(request.match_info["plan"], "plan", minimum=1, maximum=MAX_ROW_ID)
    return web.json_response(await asyncio.to_thread(_show, request.app[StoreKey], plan))


async def reschedule_plan(request: web.Request) -> web.Response:
    plan = integer(request.match_info["plan"], "plan", minimum=1, maximum=MAX_ROW_ID)
    body = json_object(await json_body(request), "", fields=("monthly",))
    raw = text(required(body, "monthly"), "monthly", max_length=20, min_length=1)
    try:
        monthly = Decimal(raw)
    except InvalidOperation:
        raise OutsideLimits(f"monthly: not an amount: {raw!r}") from None
    user = acting_user(request)
    answer = await asyncio.to_thread(_reschedule, request.app[StoreKey], plan, monthly, user.username,
                                     user.user_id, request.app[ClockKey]().date())
    return web.json_response(answer)


def add_plan_routes(app: web.Application) -> None:
    app.router.add_get("/api/plans/{plan}", show)
    app.router.add_post("/api/plans/{plan}/reschedule", reschedule_plan)
