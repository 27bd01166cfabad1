"""The live wallboard over HTTP: `GET /api/wallboard` (one snapshot as JSON) and `GET /api/wallboard/socket`
(a WebSocket pushed a snapshot every second, and at once when an agent's state changes).

One feed gathers for every watcher, so five wallboards cost the database what one does. While a socket is
open it reads the case store once a `PERIOD_S` (one snapshot, off the event loop: `campaigns.tallies`) and,
between reads, rebuilds the board on agent events (at most one push per `PUSH_GAP_S`) from the last read
and the process's live state (the desk's agents, the host's runners' calls, the switchboard's connections):
no database work per event nor per watcher. Each snapshot is serialised once and offered to every watcher;
one too slow to keep up skips to the newest. With no socket open the feed sleeps, and a GET reads the store
itself.

The board is on the campaigns' clock (the host's, which a simulated floor shifts), the clock that stamps
the attempts it counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from campaigns.desk import AgentDesk
from campaigns.events import EventBus, drain
from campaigns.host import CampaignHost
from campaigns.outage import is_outage
from campaigns.tallies import attempt_tallies, board_campaigns, one_instant
from campaigns.wallboard import AgentView, Calls, CampaignInfo, Tally, Wallboard, build_wallboard, wallboard_json
from cases import Store
from console.common import ClockKey, StoreKey
from dialer.agents import AgentStateChanged

log = logging.getLogger(__name__)

PERIOD_S = 1.0
# Agent changes come in bursts (a call's reserve, connect and hang-up; many agents at a shift's start): pushes
# are at least this far apart, the changes of the gap in one, which bounds what a busy floor sends each watcher
# (20 a second) at a cost of at most this much delay, well inside the 200 ms the issue allows.
PUSH_GAP_S = 0.05
HEARTBEAT_S = 20.0


@dataclass(frozen=True)
class StoreRead:
    at: datetime
    campaigns: list[CampaignInfo]
    tallies: dict[int | None, Tally]


def read_store(store: Store, now: datetime) -> StoreRead:
    with store.reading() as session:
        one_instant(session)
        return StoreRead(now, board_campaigns(session, now), attempt_tallies(session, now))


class WallboardFeed:
    def __init__(self, *, store: Store, clock: Callable[[], datetime], desk: AgentDesk | None = None,
                 host: CampaignHost | None = None, period_s: float = PERIOD_S) -> None:
        """`desk`: the process's agents and switchboard; `host`: its campaign runners (calls ringing and
        waiting). Without them the board has the store's figures alone."""
        self.store, self.clock, self.desk, self.host, self.period_s = store, clock, desk, host, period_s
        self.bus = desk.bus if desk is not None else EventBus()  # without a desk, no agent event comes
        self.reads = 0  # case store reads so far (the benchmark and the tests count them)
        self._watchers: set[asyncio.Queue[str]] = set()
        self._latest: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._pushed = 0.0  # when the last snapshot went out (monotonic)

    @property
    def watchers(self) -> int:
        return len(self._watchers)

    async def read(self) -> StoreRead:
        self.reads += 1
        return await asyncio.to_thread(read_store, self.store, self.clock())

    def board(self, read: StoreRead) -> Wallboard:
        """The board of `read`, with the live state of this instant."""
        return build_wallboard(at=read.at, campaigns=read.campaigns, tallies=read.tallies, calls=self._calls(),
                               agents=self._agents())

    def _agents(self) -> list[AgentView]:
        if self.desk is None:
            return []
        now, legs = time.monotonic(), self.desk.board.agents  # the desk's pool keeps monotonic time
        return [AgentView(agent.agent_id, agent.state, agent.pause_reason, agent.groups, max(0.0, now - agent.since),
                          agent.agent_id in legs and legs[agent.agent_id].up.is_set())  # idle or bridged
                for agent in self.desk.pool.agents.values()]

    def _calls(self) -> dict[int, Calls]:
        calls: dict[int, Calls] = {}
        if self.host is not None:
            for hosted in self.host.hosted.values():
                calls[hosted.campaign_id] = Calls(hosted.runner.ringing, hosted.runner.waiting)
        for connection in self.desk.board.connections if self.desk is not None else ():
            campaign_id = connection.context.get("campaign_id")
            if isinstance(campaign_id, int):
                calls[campaign_id] = calls.get(campaign_id, Calls()) + Calls(connected=1)
        return calls

    async def snapshot(self) -> str:
        """The newest pushed snapshot while the feed runs; else one read now."""
        if self._task is not None and self._latest is not None:
            return self._latest
        return json.dumps(wallboard_json(self.board(await self.read())))

    @contextlib.contextmanager
    def watch(self) -> Iterator[asyncio.Queue[str]]:
        """A queue that always holds the newest snapshot not yet taken (JSON text)."""
        queue: asyncio.Queue[str] = asyncio.Queue(1)
        if self._latest is not None:
            queue.put_nowait(self._latest)
        self._watchers.add(queue)
        if self._task is None or self._task.done():  # the first watcher, or the first since a failure
            self._task = asyncio.get_running_loop().create_task(self._run())
            self._task.add_done_callback(_log_failure)
        try:
            yield queue
        finally:
            self._watchers.discard(queue)
            if not self._watchers:
                self.close()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._task, self._latest = None, None

    def _publish(self, board: Wallboard) -> None:
        self._pushed = time.monotonic()
        self._latest = text = json.dumps(wallboard_json(board))
        for queue in self._watchers:
            if queue.full():
                queue.get_nowait()  # not taken yet: the newer one replaces it
            queue.put_nowait(text)

    async def _run(self) -> None:
        with self.bus.subscribe(lambda event: isinstance(event, AgentStateChanged)) as events:
            while True:
                deadline = time.monotonic() + self.period_s
                try:
                    read = await self.read()
                except Exception as error:  # the board waits for the store; the floor goes on without it
                    if is_outage(error):
                        log.warning("wallboard: the case store did not answer (%s)", error.__class__.__name__)
                    else:
                        log.exception("wallboard: reading the case store failed")
                    await asyncio.sleep(self.period_s)
                    continue
                self._publish(self.board(read))
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        await asyncio.wait_for(events.next(), left)
                    except asyncio.TimeoutError:
                        break
                    await asyncio.sleep(max(0.0, self._pushed + PUSH_GAP_S - time.monotonic()))
                    drain(events)  # the changes of the gap are one push
                    self._publish(self.board(read))


def _log_failure(task: asyncio.Task[None]) -> None:
    """The feed ends only when cancelled; anything else is a fault its watchers would see only as silence."""
    if not task.cancelled() and task.exception() is not None:
        log.error("wallboard feed failed", exc_info=task.exception())


WallboardKey = web.AppKey("wallboard", WallboardFeed)


async def wallboard(request: web.Request) -> web.Response:
    return web.Response(text=await request.app[WallboardKey].snapshot(), content_type="application/json")


async def wallboard_socket(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
    await socket.prepare(request)
    with request.app[WallboardKey].watch() as snapshots:
        sender = asyncio.ensure_future(_send_each(socket, snapshots))
        try:
            async for message in socket:  # the board only listens; its close (or the server's) ends this
                log.debug("wallboard watcher sent a %s message; ignored", message.type)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await sender
    return socket


async def _send_each(socket: web.WebSocketResponse, snapshots: asyncio.Queue[str]) -> None:
    while True:
        await socket.send_str(await snapshots.get())


async def _close_feed(app: web.Application) -> None:
    app[WallboardKey].close()


def add_wallboard_routes(app: web.Application, *, desk: AgentDesk | None, host: CampaignHost | None) -> None:
    app[WallboardKey] = WallboardFeed(store=app[StoreKey], clock=host.clock if host is not None else app[ClockKey],
                                      desk=desk, host=host)
    app.on_cleanup.append(_close_feed)
    app.router.add_get("/api/wallboard", wallboard)
    app.router.add_get("/api/wallboard/socket", wallboard_socket)
