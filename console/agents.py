"""The agent desktop's API: an agent's state (`POST /api/agents/{name}/state`, ready or paused with a reason
code) and their events pushed over a WebSocket (`GET /api/agents/{name}/events`: state changes, the
screen-pop of each call bridged to them, the call's end).

The role table (`console.access`) lets agents, supervisors and admins in; an agent may act on their own
name only (403 for another's), a supervisor or admin on anyone's. The WebSocket is authenticated like any
/api route, by the `Authorization` header of its upgrade request.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from aiohttp import web

from campaigns.desk import AgentDesk, DeskState, Wish
from campaigns.events import EventBus
from cases.models import Role
from console.access import acting_user
from console.common import json_body
from console.errors import Forbidden, Unavailable
from console.validation import choice, optional_text, required

DeskKey = web.AppKey("agent_desk", AgentDesk)
BusKey = web.AppKey("event_bus", EventBus)
MAX_REASON = 64
HEARTBEAT_S = 20.0


def _agent(request: web.Request) -> str:
    """The agent named in the path, when the caller may act for them."""
    name = request.match_info["name"]
    principal = acting_user(request)
    if principal.role is Role.AGENT and principal.username != name:
        raise Forbidden("an agent may act on their own desk only", role=principal.role.value)
    return name


def _desk(request: web.Request) -> tuple[AgentDesk, EventBus]:
    if DeskKey not in request.app:
        raise Unavailable("this process runs no agent desk (no switchboard); ask the `dunline serve` node")
    return request.app[DeskKey], request.app[BusKey]


def _state_json(state: DeskState) -> dict[str, Any]:
    return {"agent": state.agent_id, "state": state.state.value, "reason": state.reason, "phone_up": state.phone_up}


def event_json(event: object) -> dict[str, Any]:
    fields = {key: value.value if hasattr(value, "value") else value
              for key, value in dataclasses.asdict(event).items()}  # type: ignore[call-overload]
    return {"type": type(event).__name__, **fields}


async def set_state(request: web.Request) -> web.Response:
    name = _agent(request)
    body = await json_body(request)
    wish = Wish(choice(required(body, "state"), "state", [w.value for w in Wish]))
    reason = optional_text(body.get("reason"), "reason", max_length=MAX_REASON)
    if wish is Wish.PAUSED and not reason:
        reason = "paused"
    desk, _ = _desk(request)
    return web.json_response(_state_json(await desk.ask(name, wish, reason)))


async def events(request: web.Request) -> web.WebSocketResponse:
    name = _agent(request)
    desk, bus = _desk(request)
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
    await socket.prepare(request)
    with bus.subscribe(lambda event: getattr(event, "agent_id", None) == name) as subscription:
        await socket.send_json({"type": "DeskState", **_state_json(desk.state(name))})
        closed = asyncio.ensure_future(socket.receive())  # the client's close (or anything it sends) ends it
        try:
            while not socket.closed:
                following = asyncio.ensure_future(subscription.next())
                done, _ = await asyncio.wait({following, closed}, return_when=asyncio.FIRST_COMPLETED)
                if closed in done:
                    following.cancel()
                    break
                await socket.send_json(event_json(following.result()))
        finally:
            closed.cancel()
    return socket


def add_agent_routes(app: web.Application, desk: AgentDesk | None, bus: EventBus | None) -> None:
    """The routes always exist (the role table covers them); without a desk they answer 503."""
    if desk is not None and bus is not None:
        app[DeskKey], app[BusKey] = desk, bus
    app.router.add_post("/api/agents/{name}/state", set_state)
    app.router.add_get("/api/agents/{name}/events", events)
