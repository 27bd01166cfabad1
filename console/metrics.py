"""`GET /api/metrics`: what the process's switchboard shows now, for supervisors and the floor bench.

The media clock's tick lateness (the first thing to suffer when anything else holds the event loop), the
answer-to-bridge latency of every connection, the debtor calls dialling, up and bridged, and the agents'
legs. All of it is read from the switchboard's own counters and bounded histograms (`dialer.latency`): a
read walks the calls and legs in memory once and touches no database, so polling it costs the floor
nothing. Per-campaign dial counts are the case store's (attempts), not repeated here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from console.agents import DeskKey
from console.errors import Unavailable
from dialer.agent_leg import LegState
from dialer.latency import LatencyHistogram
from dialer.switchboard import Switchboard


def _histogram_json(histogram: LatencyHistogram) -> dict[str, Any]:
    return dataclasses.asdict(histogram.summary())


def call_counts(board: Switchboard) -> dict[str, int]:
    """Debtor calls the switchboard placed that have not ended (agents' nailed-up legs left out)."""
    agent_calls = {leg.current.call for leg in board.agents.values() if leg.current is not None}
    dialling = up = 0
    for ua in {board.ua, board.trunk_ua}:
        for call in ua.calls.values():
            if call.ended.is_set() or call in agent_calls:
                continue
            if call.answered or call.answered_at is not None:  # taken in (inbound) or a 2xx came (placed)
                up += 1
            else:
                dialling += 1
    return {"dialling": dialling, "up": up, "bridged": len(board.connections)}


async def metrics(request: web.Request) -> web.Response:
    if DeskKey not in request.app:
        raise Unavailable("this process runs no switchboard; ask the `dunline serve` node")
    board = request.app[DeskKey].board
    return web.json_response({
        "clock": {"ticks": board.clock.ticks, **_histogram_json(board.clock.lateness)},
        "bridge": _histogram_json(board.bridge_latency),
        "calls": call_counts(board),
        "agents": {"logged_in": len(board.agents),
                   "idle": sum(1 for leg in board.agents.values() if leg.state is LegState.IDLE)},
    })


def add_metrics_routes(app: web.Application) -> None:
    app.router.add_get("/api/metrics", metrics)
