"""A supervisor's force-pause and log-out (`POST /api/agents/{name}/force`, issue 16) on a real agent desk: real
phones (agent bots) registered with a real switchboard, their nailed-up legs called on "ready". Each forced
change is audited; a log-out hangs up the phone's leg and waits for a call in progress to end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from campaigns.desk import AgentDesk
from campaigns.events import EventBus, drain
from cases import Store
from cases.models import AuditEntry, Role
from console import build_app
from dialer.agents import AgentState, AgentStateChanged
from dialer.simulate.agent_bot import AgentBot
from dialer.switchboard import Switchboard
from tests.conftest import REDIS_URL
from tests.console.conftest import StepClock, bearer, mint_token

PASSWORDS = {"amy": "amy-sip-password", "bob": "bob-sip-password"}


@dataclass
class Desk:
    client: TestClient
    desk: AgentDesk
    board: Switchboard
    bots: dict[str, AgentBot]
    tokens: dict[str, str]

    async def post(self, path: str, user: str, body: object) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(path, json=body, headers=bearer(self.tokens[user]))
        return response.status, await response.json()

    async def ready(self, agent: str) -> None:
        """The agent says ready until their phone's leg is up and they are."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, state = await self.post(f"/api/agents/{agent}/state", agent, {"state": "ready"})
            assert status == 200, state
            if state["state"] == "ready":
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{agent} not ready: {state}")


@pytest.fixture
async def floor(store: Store, clock: StepClock) -> AsyncIterator[Desk]:
    board = Switchboard(password_of=PASSWORDS.get)
    await board.start()
    bus = EventBus()
    desk = AgentDesk(board, bus=bus)
    bots = {name: AgentBot(name, password, board.address) for name, password in PASSWORDS.items()}
    redis_client = aioredis.from_url(REDIS_URL)
    tokens = {name: mint_token(store, Role.AGENT, username=name) for name in PASSWORDS}
    tokens |= {role.value: mint_token(store, role) for role in (Role.SUPERVISOR, Role.CAMPAIGN_MANAGER, Role.ADMIN)}
    try:
        for bot in bots.values():
            assert await bot.start()
        async with TestClient(TestServer(build_app(store=store, redis_client=redis_client, clock=clock, desk=desk,
                                                   bus=bus))) as client:
            yield Desk(client, desk, board, bots, tokens)
    finally:
        for bot in bots.values():
            await bot.close()
        await board.close()
        await redis_client.aclose()


def _audit(store: Store) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    with store.reading() as session:
        return [(entry.actor, entry.action, entry.entity_id, entry.details)
                for entry in session.scalars(select(AuditEntry).where(AuditEntry.action.like("agent.%")))]


async def _until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_force_pause_is_audited_and_the_agent_may_say_ready_again(store: Store, floor: Desk) -> None:
    await floor.ready("amy")
    status, state = await floor.post("/api/agents/amy/force", "supervisor", {"action": "pause", "reason": "coaching"})
    assert status == 200, state
    assert (state["state"], state["reason"], state["phone_up"], state["action"]) == \
        ("paused", "coaching", True, "pause")
    assert _audit(store) == [("supervisor", "agent.force_pause", "amy", {"reason": "coaching", "state": "ready"})]
    assert floor.desk.state("amy").state is AgentState.PAUSED
    await floor.ready("amy")  # a pause said for them, not a lock


async def test_force_logout_hangs_up_the_phone_and_ready_logs_back_in(store: Store, floor: Desk) -> None:
    await floor.ready("amy")
    leg = floor.bots["amy"].legs[-1]
    with floor.desk.bus.subscribe(lambda event: isinstance(event, AgentStateChanged)) as events:
        status, state = await floor.post("/api/agents/amy/force", "admin", {"action": "logout", "reason": "shift over"})
        assert status == 200, state
        assert (state["state"], state["phone_up"]) == ("logged_out", False)
        changes = drain(events)
    assert [(c.old, c.new, c.reason) for c in changes] == [(AgentState.READY, AgentState.LOGGED_OUT, "shift over")]
    assert _audit(store) == [("admin", "agent.force_logout", "amy", {"reason": "shift over", "state": "ready"})]
    await _until(leg.ended.is_set)  # the switchboard hung up the phone's leg
    assert "amy" not in floor.board.agents
    floor.desk.tick()
    await asyncio.sleep(0.3)
    assert floor.desk.state("amy").state is AgentState.LOGGED_OUT and len(floor.bots["amy"].legs) == 1  # not called
    await floor.ready("amy")  # called again, logged in, ready
    assert len(floor.bots["amy"].legs) == 2 and not floor.bots["amy"].legs[-1].ended.is_set()


async def test_force_logout_during_a_call_waits_for_its_end(store: Store, floor: Desk) -> None:
    await floor.ready("bob")
    desk = floor.desk
    assert desk.reserve("collectors", "call-1") == "bob"
    desk.connect("bob")
    status, state = await floor.post("/api/agents/bob/force", "supervisor", {"action": "logout", "reason": "sick"})
    assert status == 200 and state["state"] == "on_call", state  # the debtor is not cut off
    desk.tick()
    assert desk.state("bob").state is AgentState.ON_CALL and "bob" in floor.board.agents
    assert desk.reserve("collectors", "call-2") is None  # the only agent ready was bob
    desk.hang_up("bob")  # the call ends: wrap-up, and the log-out takes effect
    desk.tick()
    assert desk.state("bob").state is AgentState.LOGGED_OUT and "bob" not in floor.board.agents
    await _until(floor.bots["bob"].legs[-1].ended.is_set)


async def test_force_is_refused_to_others_and_checks_its_body(store: Store, floor: Desk) -> None:
    await floor.ready("amy")
    for user in ("amy", "bob", "campaign_manager"):
        status, body = await floor.post("/api/agents/amy/force", user, {"action": "pause", "reason": "x"})
        assert (status, body["error_id"]) == (403, "forbidden"), user
    anonymous = await floor.client.post("/api/agents/amy/force", json={"action": "pause", "reason": "x"})
    assert anonymous.status == 401
    for body, status, error_id in (({"action": "pause", "reason": "x"}, 404, "no_agent"),  # to /api/agents/zed
                                   ({"action": "fire", "reason": "x"}, 400, "bad_parameter"),
                                   ({"action": "pause"}, 400, "bad_parameter"),
                                   ({"action": "pause", "reason": ""}, 400, "bad_parameter"),
                                   ({"action": "pause", "reason": "r" * 65}, 400, "bad_parameter"),
                                   ({"action": "pause", "reason": "x", "until": "never"}, 400, "bad_parameter")):
        name = "zed" if error_id == "no_agent" else "amy"
        answer, refused = await floor.post(f"/api/agents/{name}/force", "supervisor", body)
        assert (answer, refused["error_id"]) == (status, error_id), (body, refused)
    assert _audit(store) == []  # nothing refused was audited
    assert floor.desk.state("amy").state is AgentState.READY


async def test_force_without_an_agent_desk_answers_503(store: Store, api: TestClient) -> None:
    response = await api.post("/api/agents/amy/force", json={"action": "pause", "reason": "x"})
    assert response.status == 503 and (await response.json())["error_id"] == "unavailable"
