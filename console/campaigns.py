"""Campaign operations over HTTP (JSON): list, create, show, start/pause/finish — the same service calls
as `dunline campaign`, documented in `console/openapi.yaml`. Every change is audited under the acting user:
the owner of the request's credentials (`console.access`), never a name the client states. A refusal of the
service (`campaigns.errors`) leaves through the error middleware with its own error_id and status.

Text fields are bounded by the columns that store them, so a body the API accepts is one the database takes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy import select

from campaigns.service import (
    CampaignSchedule,
    CampaignSpec,
    campaign_report,
    change_status,
    create_campaign,
    find_campaign,
)
from cases.models import Campaign
from console.access import acting_user
from console.common import ClockKey, StoreKey, error_response, json_body
from console.segments import segment_from_body
from console.validation import (
    choice,
    integer,
    items,
    json_object,
    number,
    optional_text,
    required,
    text,
)
from dialer.pacing.modes import DialMode

ACTIONS = ("start", "pause", "finish")
FIELDS = ("name", "segment", "dial_mode", "agent_group", "ivr_flow", "caller_id", "abandon_target", "schedule")
SCHEDULE_FIELDS = ("start", "end", "zone", "weekdays")
MAX_CAMPAIGN_ID = 2**31 - 1  # an INTEGER key on PostgreSQL; a larger id would fail in the database, not here
# Set by a composition root that hosts campaigns in this process: told of every status change, so that its
# host looks at once instead of at its next poll.
CampaignsChangedKey = web.AppKey("campaigns_changed", Callable[[], None])


def _length(column: Any) -> int:
    return int(column.type.length)


def _reference(request: web.Request) -> str:
    """A campaign's id or name from the path, as `find_campaign` reads it (all digits: an id)."""
    reference = text(request.match_info["campaign"], "campaign", min_length=1, max_length=_length(Campaign.name))
    if reference.isdigit():
        integer(reference, "campaign", minimum=1, maximum=MAX_CAMPAIGN_ID)
    return reference


def _schedule(raw: object) -> CampaignSchedule:
    data = json_object(raw, "schedule", fields=SCHEDULE_FIELDS)
    checked: dict[str, Any] = {key: text(required(data, key), f"schedule.{key}", max_length=8)
                               for key in ("start", "end")}
    if data.get("zone") is not None:
        checked["zone"] = text(data["zone"], "schedule.zone", max_length=64)
    if data.get("weekdays") is not None:
        checked["weekdays"] = [integer(day, "schedule.weekdays", minimum=0, maximum=6)
                               for day in items(data["weekdays"], "schedule.weekdays", max_items=7)]
    return CampaignSchedule.from_json(checked)


def _spec(body: dict[str, Any]) -> CampaignSpec:
    json_object(body, "", fields=FIELDS)
    return CampaignSpec(
        name=text(required(body, "name"), "name", max_length=_length(Campaign.name)),
        segment=segment_from_body({} if body.get("segment") is None else body["segment"]),
        dial_mode=DialMode(choice(body.get("dial_mode", DialMode.PREDICTIVE.value), "dial_mode",
                                  [mode.value for mode in DialMode])),
        agent_group=optional_text(body.get("agent_group"), "agent_group", max_length=_length(Campaign.agent_group)),
        ivr_flow=optional_text(body.get("ivr_flow"), "ivr_flow", max_length=_length(Campaign.ivr_flow)),
        caller_id=optional_text(body.get("caller_id"), "caller_id", max_length=_length(Campaign.caller_id)),
        abandon_target=number(body.get("abandon_target", 0.03), "abandon_target", minimum=0, maximum=1),
        schedule=None if body.get("schedule") is None else _schedule(body["schedule"]))


def _campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {"id": campaign.id, "name": campaign.name, "status": campaign.status.value, "dial_mode": campaign.dial_mode,
            "agent_group": campaign.agent_group, "ivr_flow": campaign.ivr_flow, "caller_id": campaign.caller_id,
            "abandon_target": campaign.abandon_target, "segment": campaign.definition.get("segment", {}),
            "schedule": campaign.definition.get("schedule"),
            "created_at": campaign.created_at.isoformat()}


async def campaigns_index(request: web.Request) -> web.Response:
    store = request.app[StoreKey]

    def query() -> list[dict[str, Any]]:
        with store.reading() as session:
            return [_campaign_json(c) for c in session.scalars(select(Campaign).order_by(Campaign.id))]
    return web.json_response({"campaigns": await asyncio.to_thread(query)})


async def campaigns_create(request: web.Request) -> web.Response:
    actor = acting_user(request).username
    spec = _spec(await json_body(request))
    store = request.app[StoreKey]

    def create() -> dict[str, Any]:
        with store.session() as session:
            return _campaign_json(create_campaign(session, spec, actor=actor))
    return web.json_response(await asyncio.to_thread(create), status=201)


async def campaigns_show(request: web.Request) -> web.Response:
    reference = _reference(request)
    store = request.app[StoreKey]

    def show() -> dict[str, Any]:
        with store.reading() as session:
            campaign = find_campaign(session, reference)
            report = campaign_report(session, campaign)
            return {**_campaign_json(campaign), "attempts": report.attempts, "outcomes": report.outcomes,
                    "in_flight": report.in_flight, "live_answers": report.live_answers,
                    "abandoned": report.abandoned, "abandon_rate": round(report.abandon_rate, 4)}
    return web.json_response(await asyncio.to_thread(show))


async def campaigns_action(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    if action not in ACTIONS:
        return error_response(404, "no_action", f"unknown action {action[:32]!r}", actions=list(ACTIONS))
    reference, actor = _reference(request), acting_user(request).username
    store, now = request.app[StoreKey], request.app[ClockKey]()

    def move() -> dict[str, Any]:
        with store.session() as session:
            campaign = find_campaign(session, reference)
            return _campaign_json(change_status(session, campaign.id, action, actor=actor, now=now))
    moved = await asyncio.to_thread(move)
    changed = request.app.get(CampaignsChangedKey)
    if changed is not None:
        changed()
    return web.json_response(moved)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/campaigns", campaigns_index)
    app.router.add_post("/api/campaigns", campaigns_create)
    app.router.add_get("/api/campaigns/{campaign}", campaigns_show)
    app.router.add_post("/api/campaigns/{campaign}/{action}", campaigns_action)
