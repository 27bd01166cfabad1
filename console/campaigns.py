"""Campaign operations over HTTP (JSON): list, create, show, start/pause/finish — the same service calls
as `dunline campaign`, documented in `console/openapi.yaml`. The acting user comes in `X-Dunline-User`
until console sign-in exists; every change is audited under that name."""

from __future__ import annotations

import asyncio
from decimal import InvalidOperation
from typing import Any

from aiohttp import web
from sqlalchemy import select

from campaigns.service import (
    CampaignError,
    CampaignSchedule,
    CampaignSpec,
    campaign_report,
    change_status,
    create_campaign,
    find_campaign,
    segment_from_json,
)
from cases.models import Campaign
from cases.segments import UnknownBucket
from console.common import StoreKey, error_response
from dialer.pacing.modes import DialMode

ACTIONS = ("start", "pause", "finish")


def _actor(request: web.Request) -> str:
    return f"api:{request.headers.get('X-Dunline-User', 'anonymous')}"


def _campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {"id": campaign.id, "name": campaign.name, "status": campaign.status.value, "dial_mode": campaign.dial_mode,
            "agent_group": campaign.agent_group, "ivr_flow": campaign.ivr_flow, "caller_id": campaign.caller_id,
            "abandon_target": campaign.abandon_target, "segment": campaign.definition.get("segment", {}),
            "schedule": campaign.definition.get("schedule"),
            "created_at": campaign.created_at.isoformat()}


async def campaigns_index(request: web.Request) -> web.Response:
    store = request.app[StoreKey]

    def query() -> list[dict[str, Any]]:
        with store.session() as session:
            return [_campaign_json(c) for c in session.scalars(select(Campaign).order_by(Campaign.id))]
    return web.json_response({"campaigns": await asyncio.to_thread(query)})


async def campaigns_create(request: web.Request) -> web.Response:
    try:
        body = await request.json()
        spec = CampaignSpec(name=str(body["name"]), segment=segment_from_json(body.get("segment", {})),
                            dial_mode=DialMode(body.get("dial_mode", "predictive")),
                            agent_group=body.get("agent_group"), ivr_flow=body.get("ivr_flow"),
                            caller_id=body.get("caller_id"), abandon_target=float(body.get("abandon_target", 0.03)),
                            schedule=CampaignSchedule.from_json(body["schedule"]) if body.get("schedule") else None)
    except KeyError as error:
        return error_response(400, "bad_campaign", f"field {error.args[0]!r} is missing")
    except (ValueError, TypeError, UnknownBucket, InvalidOperation, CampaignError) as error:
        return error_response(400, "bad_campaign", str(error))
    store = request.app[StoreKey]

    def create() -> dict[str, Any]:
        with store.session() as session:
            return _campaign_json(create_campaign(session, spec, actor=_actor(request)))
    try:
        return web.json_response(await asyncio.to_thread(create), status=201)
    except CampaignError as error:
        return error_response(409 if "exists" in str(error) else 400, "bad_campaign", str(error))


async def campaigns_show(request: web.Request) -> web.Response:
    store = request.app[StoreKey]

    def show() -> dict[str, Any]:
        with store.session() as session:
            campaign = find_campaign(session, request.match_info["campaign"])
            report = campaign_report(session, campaign)
            return {**_campaign_json(campaign), "attempts": report.attempts, "outcomes": report.outcomes,
                    "in_flight": report.in_flight, "live_answers": report.live_answers,
                    "abandoned": report.abandoned, "abandon_rate": round(report.abandon_rate, 4)}
    try:
        return web.json_response(await asyncio.to_thread(show))
    except CampaignError as error:
        return error_response(404, "no_campaign", str(error))


async def campaigns_action(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    if action not in ACTIONS:
        return error_response(404, "no_action", f"unknown action {action!r}", actions=list(ACTIONS))
    store = request.app[StoreKey]

    def move() -> dict[str, Any]:
        with store.session() as session:
            campaign = find_campaign(session, request.match_info["campaign"])
            return _campaign_json(change_status(session, campaign.id, action, actor=_actor(request)))
    try:
        return web.json_response(await asyncio.to_thread(move))
    except CampaignError as error:
        status = 404 if str(error).startswith("no campaign") else 409
        return error_response(status, "bad_transition" if status == 409 else "no_campaign", str(error))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/campaigns", campaigns_index)
    app.router.add_post("/api/campaigns", campaigns_create)
    app.router.add_get("/api/campaigns/{campaign}", campaigns_show)
    app.router.add_post("/api/campaigns/{campaign}/{action}", campaigns_action)

