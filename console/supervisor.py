"""A supervisor's hand on an agent's desk: `POST /api/agents/{name}/force` `{"action": "pause" | "logout",
"reason": "..."}` (supervisors and admins, `console.access`).

A forced pause is the agent's own pause said for them (the agent may say "ready" again); a forced log-out
takes them out of the pool and hangs up their phone's leg (`AgentDesk.log_out`). Neither cuts a call: both
take effect when the agent's call in progress ends. Each is audited with its reason before it is done, so no
forced change goes unrecorded; an agent the desk has never seen is 404.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from campaigns.desk import Wish
from cases.audit import record
from console.access import acting_user
from console.agents import MAX_REASON, DeskKey, event_json
from console.common import StoreKey, json_body
from console.errors import ApiError, Unavailable
from console.validation import choice, json_object, required, text

ACTIONS = ("pause", "logout")


class NoSuchAgent(ApiError):
    status = 404
    error_id = "no_agent"


async def force(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    body = json_object(await json_body(request), "", fields=("action", "reason"))
    action = choice(required(body, "action"), "action", ACTIONS)
    reason = text(required(body, "reason"), "reason", min_length=1, max_length=MAX_REASON)
    if DeskKey not in request.app:
        raise Unavailable("this process runs no agent desk (no switchboard); ask the `dunline serve` node")
    desk = request.app[DeskKey]
    if not await desk.knows(name):
        raise NoSuchAgent(f"no agent {name[:64]!r} is logged in", agent=name[:64])
    actor, store = acting_user(request).username, request.app[StoreKey]
    before = desk.state(name)

    def audit() -> None:
        with store.session() as session:
            record(session, actor=actor, action=f"agent.force_{action}", entity="agent", entity_id=name,
                   details={"reason": reason, "state": before.state.value})
    await asyncio.to_thread(audit)
    after = await (desk.ask(name, Wish.PAUSED, reason) if action == "pause" else desk.ask_out(name, reason))
    result: dict[str, Any] = {**event_json(after), "action": action}
    return web.json_response(result)


def add_supervisor_routes(app: web.Application) -> None:
    app.router.add_post("/api/agents/{name}/force", force)
