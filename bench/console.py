"""The web console under a running floor: N agents signed in to the console (session cookies, as browsers are)
with their desktop's event socket open, and W wallboards on the wallboard socket, while `dunline serve` dials a
predictive campaign through the PSTN simulator to the agents' phones (agent bots). The floor is the one
`bench/floor.py` builds (its processes, users and campaign).

Measured over --seconds of the running campaign:
- page time: each agent loads the agent desktop (`GET /desk`, the whole body) every PAGE_EVERY_S, at its own phase;
- event delivery delay: from an agent's state change on the server (the `at` of AgentStateChanged, the server's
  monotonic clock, which on one machine is ours too) to its arrival on that agent's event socket, and to the
  first wallboard push that shows the agent in the new state (a change the board coalesced away is not counted);
- serve's CPU (% of one core, from /proc), and the wallboard pushes each watcher received per second.
Issue 16's goal: event delivery p99 <= 200 ms with 50 agents and 5 wallboards.

    python bench/console.py [--json] [--agents 50] [--wallboards 5] [--seconds 60] [--cases 3000] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.floor import CAMPAIGN, bench_main, cpu_seconds, served_floor, wind_down  # noqa: E402

PASSWORD = "a long bench password 42"
PAGE_EVERY_S = 2.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def set_passwords(database_url: str, names: list[str]) -> None:
    from sqlalchemy import select

    from cases import Store
    from cases.models import User
    from console.passwords import set_password

    store = Store(database_url)
    try:
        with store.session() as session:
            for user in session.scalars(select(User).where(User.username.in_(names))):
                set_password(session, user, PASSWORD, actor="bench", now=datetime.now(timezone.utc))
    finally:
        store.dispose()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ranked = sorted(values)
    return round(ranked[min(len(ranked) - 1, int(q * len(ranked)))], 1)


@dataclass
class Measures:
    page_ms: list[float] = field(default_factory=list)
    desk_event_ms: list[float] = field(default_factory=list)
    board_event_ms: list[float] = field(default_factory=list)
    pushes: int = 0
    boards: list[Board] = field(default_factory=list)
    recording: bool = False

    def changed(self, agent: str, state: str, at: float) -> None:
        """An agent's change, as its event socket told it: every wallboard is to show it."""
        for board in self.boards:
            board.expect(agent, state, at, self)


@dataclass
class Board:
    """One wallboard watcher: the changes it has yet to show, and what it showed last of each agent."""

    pending: dict[str, tuple[str, float]] = field(default_factory=dict)  # agent -> (state, server time)
    shown: dict[str, tuple[str, float]] = field(default_factory=dict)  # agent -> (state, when it came)

    def expect(self, agent: str, state: str, at: float, measures: Measures) -> None:
        seen = self.shown.get(agent)
        if seen is not None and seen[0] == state and seen[1] >= at:  # the board was quicker than the agent socket
            if measures.recording:
                measures.board_event_ms.append(1000 * (seen[1] - at))
            return
        self.pending[agent] = (state, at)  # a newer change replaces one the board never showed

    def show(self, board: dict[str, Any], now: float, measures: Measures) -> None:
        for row in board["agents"]:
            agent, state = row["agent"], row["state"]
            self.shown[agent] = (state, now)
            waiting = self.pending.get(agent)
            if waiting is not None and waiting[0] == state:
                del self.pending[agent]
                if measures.recording:
                    measures.board_event_ms.append(1000 * (now - waiting[1]))


async def signed_in(api: str, name: str) -> Any:
    """An HTTP session signed in to the console as `name` through the sign-in form (its cookies kept)."""
    import aiohttp

    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # cookies of 127.0.0.1
    async with http.get(f"{api}/signin") as form:
        token = CSRF.search(await form.text())
    assert token is not None, "no CSRF token on the sign-in form"
    async with http.post(f"{api}/signin", allow_redirects=False, data={
            "username": name, "password": PASSWORD, "next": "/", "csrf_token": token.group(1)}) as response:
        if response.status != 303:
            await http.close()
            raise RuntimeError(f"{name} could not sign in: {response.status} {(await response.text())[:300]}")
    return http


async def agent_desktop(api: str, http: Any, name: str, measures: Measures, stop: asyncio.Event) -> None:
    """One agent's browser: the events socket open, the desktop page loaded every PAGE_EVERY_S."""
    async def follow() -> None:
        async with http.ws_connect(f"{api}/api/agents/{name}/events") as events:
            async for message in events:
                event = json.loads(message.data)
                if event.get("type") == "AgentStateChanged":
                    now = time.monotonic()
                    if measures.recording:
                        measures.desk_event_ms.append(1000 * (now - event["at"]))
                    measures.changed(name, event["new"], event["at"])
    following = asyncio.ensure_future(follow())
    await asyncio.sleep(random.uniform(0, PAGE_EVERY_S))
    try:
        while not stop.is_set():
            started = time.monotonic()
            async with http.get(f"{api}/desk") as page:
                await page.read()
                assert page.status == 200, page.status
            if measures.recording:
                measures.page_ms.append(1000 * (time.monotonic() - started))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), PAGE_EVERY_S)
    finally:
        following.cancel()


async def wallboard(api: str, http: Any, board: Board, measures: Measures, stop: asyncio.Event) -> None:
    """One wallboard watcher, until `stop` closes its socket."""
    async with http.ws_connect(f"{api}/api/wallboard/socket") as socket_:
        closing = asyncio.ensure_future(_close_on(stop, socket_))
        async for message in socket_:
            board.show(json.loads(message.data), time.monotonic(), measures)
            measures.pushes += measures.recording
        closing.cancel()


async def _close_on(stop: asyncio.Event, socket_: Any) -> None:
    await stop.wait()
    await socket_.close()


async def measure(api: str, minted: dict[str, str], agents: list[str], wallboards: int, seconds: float,
                  serve_pid: int) -> tuple[Measures, float]:
    import aiohttp

    measures, stop = Measures(), asyncio.Event()
    sessions = [await signed_in(api, name) for name in agents]
    watchers = [await signed_in(api, "supervisor") for _ in range(wallboards)]
    measures.boards = [Board() for _ in watchers]
    tasks = [asyncio.ensure_future(agent_desktop(api, http, name, measures, stop))
             for http, name in zip(sessions, agents)]
    tasks += [asyncio.ensure_future(wallboard(api, http, board, measures, stop))
              for http, board in zip(watchers, measures.boards)]
    manager = {"Authorization": f"Bearer {minted['manager']}"}
    try:
        async with aiohttp.ClientSession(raise_for_status=True) as http:
            await http.post(f"{api}/api/campaigns", json=CAMPAIGN, headers=manager)
            await http.post(f"{api}/api/campaigns/bench/start", headers=manager)
            await asyncio.sleep(5.0)  # the pacer's first calls; the figures start from a floor at work
            measures.recording, cpu_before, started = True, cpu_seconds(serve_pid), time.monotonic()
            await asyncio.sleep(seconds)
            measures.recording = False
            cpu_pct = 100 * (cpu_seconds(serve_pid) - cpu_before) / (time.monotonic() - started)
            await http.post(f"{api}/api/campaigns/bench/pause", headers=manager)
            await wind_down(http, f"{api}/api/metrics", {"Authorization": f"Bearer {minted['supervisor']}"})
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for http in sessions + watchers:
            await http.close()
    return measures, cpu_pct


async def run(args: argparse.Namespace, data: Path) -> dict[str, Any]:
    def supervisors_too(database_url: str, agents: list[str]) -> None:
        set_passwords(database_url, [*agents, "supervisor"])

    async with served_floor(data, agents=args.agents, cases=args.cases, seed=args.seed,
                            prepare=supervisors_too) as floor:
        measures, cpu_pct = await measure(floor.api, floor.minted, floor.agents, args.wallboards, args.seconds,
                                          floor.serve_pid)
    return {"agents": args.agents, "wallboards": args.wallboards, "seconds": args.seconds,
            "desk_page_ms_p50": percentile(measures.page_ms, 0.5),
            "desk_page_ms_p99": percentile(measures.page_ms, 0.99), "desk_pages": len(measures.page_ms),
            "desk_event_ms_p50": percentile(measures.desk_event_ms, 0.5),
            "desk_event_ms_p99": percentile(measures.desk_event_ms, 0.99), "desk_events": len(measures.desk_event_ms),
            "wallboard_event_ms_p50": percentile(measures.board_event_ms, 0.5),
            "wallboard_event_ms_p99": percentile(measures.board_event_ms, 0.99),
            "wallboard_events": len(measures.board_event_ms),
            "wallboard_pushes_per_s": round(measures.pushes / args.wallboards / args.seconds, 2),
            "cpu_pct": round(cpu_pct, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--wallboards", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--cases", type=int, default=3000, help="demo debtors imported (enough not to run dry)")
    parser.add_argument("--seed", type=int, default=1)
    bench_main(parser, run, "dunline-console-")


if __name__ == "__main__":
    main()
