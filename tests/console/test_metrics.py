"""GET /api/metrics (issue 15 item 3 and the floor bench): the media clock's lateness, calls up and bridged,
answer-to-bridge latency and agents, read from the real switchboard of the process; admins and supervisors only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from campaigns.desk import AgentDesk
from campaigns.events import EventBus
from cases import Store
from cases.models import Role
from console import build_app
from dialer.switchboard import Switchboard
from tests.conftest import REDIS_URL
from tests.console.conftest import StepClock, bearer, mint_token


@pytest.fixture
async def served(store: Store, clock: StepClock) -> AsyncIterator[tuple[TestClient, Switchboard]]:
    board = Switchboard()  # no trunk: the registrar and the media clock are what is read
    await board.start()
    bus = EventBus()
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=clock, desk=AgentDesk(board, bus=bus), bus=bus)
    async with TestClient(TestServer(app)) as client:
        yield client, board
    await redis_client.aclose()
    await board.close()


async def test_item_3_metrics_shows_clock_lateness_calls_and_bridge_latency(
        store: Store, served: tuple[TestClient, Switchboard]) -> None:
    client, board = served

    class Member:  # five ticks of the switchboard's own clock, as a prompt player would
        ticks = 0

        def tick(self, now: float) -> bool:
            self.ticks += 1
            return self.ticks < 5
    member = Member()
    board.clock.add(member)
    while member.ticks < 5:
        await asyncio.sleep(0.02)
    board.bridge_latency.record(0.004)
    response = await client.get("/api/metrics", headers=bearer(mint_token(store, Role.SUPERVISOR)))
    assert response.status == 200, await response.text()
    body = await response.json()
    assert set(body) == {"clock", "bridge", "calls", "agents"}
    assert body["clock"]["ticks"] == 5 and body["clock"]["count"] == 5
    assert set(body["clock"]) == {"ticks", "count", "p50_ms", "p99_ms", "max_ms"}
    assert body["bridge"]["count"] == 1 and body["bridge"]["max_ms"] == 4.0
    assert body["calls"] == {"dialling": 0, "up": 0, "bridged": 0}
    assert body["agents"] == {"logged_in": 0, "idle": 0}


async def test_item_3_metrics_is_for_admins_and_supervisors(store: Store,
                                                           served: tuple[TestClient, Switchboard]) -> None:
    client, _ = served
    assert (await client.get("/api/metrics")).status == 401
    for role in Role:
        status = (await client.get("/api/metrics", headers=bearer(mint_token(store, role)))).status
        assert status == (200 if role in (Role.ADMIN, Role.SUPERVISOR) else 403), (role, status)


async def test_item_3_metrics_without_a_switchboard_answers_503(store: Store, clock: StepClock) -> None:
    redis_client = aioredis.from_url(REDIS_URL)
    async with TestClient(TestServer(build_app(store=store, redis_client=redis_client, clock=clock))) as client:
        response = await client.get("/api/metrics", headers=bearer(mint_token(store, Role.ADMIN)))
        assert response.status == 503 and (await response.json())["error_id"] == "unavailable"
    await redis_client.aclose()
