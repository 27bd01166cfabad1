"""`dunline serve` as a live call centre, in a subprocess: the PSTN simulator (this process) is its trunk's far
end, agent bots (this process) register with their derived SIP passwords and say "ready" over the API,
campaigns are started and paused over HTTP with minted tokens. Each floor has a Redis server of its own (a
redis-server process on a free port), so that a test may stop and start it, and no other test's jobs meet
this one's."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from cases import Store, migrate
from cases.models import AfterCallState, Attempt, AttemptOutcome, Role, User
from console import tokens
from crypto import KEY_FILE, MasterKeys, SealedReader, ensure_key_file
from crypto.sealed import STREAM_VERSION
from dialer.simulate.agent_bot import AgentBot
from dialer.simulate.pstn import VOICES, Persona, PstnSimulator, Script
from dunline.settings import Settings
from dunline.telephony import agent_sip_password
from recordings.transcripts import transcript_file
from speech.models import find_model
from tests.campaigns.test_campaign_run import NUMBERS, seed
from tests.conftest import require

AT = "2026-11-30T20:00:00+00:00"  # noon in California, where the seeded debtors live
SIP_SECRET = "a-long-agent-sip-secret-for-tests"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A redis-server of the test's own on a free port, persisting nothing; `stop` and `start` again."""

    def __init__(self) -> None:
        require("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@dataclass
class Floor:
    store: Store
    pstn: PstnSimulator
    process: subprocess.Popen[str]
    api: str
    tokens: dict[str, str]
    log: Path
    bots: list[AgentBot]
    restart: Callable[[], subprocess.Popen[str]]
    redis: RedisServer
    sip: tuple[str, int]  # where serve takes SIP (the trunk's calls in, phones registering)

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def attempts(self) -> list[Attempt]:
        with self.store.session() as session:
            rows = list(session.scalars(select(Attempt).order_by(Attempt.id)))
            session.expunge_all()
        return rows

    def output(self) -> str:
        return self.log.read_text()


def provision(store: Store, users: dict[str, Role]) -> dict[str, str]:
    minted = {}
    with store.session() as session:
        for name, role in users.items():
            user = User(username=name, display_name=name, role=role)
            session.add(user)
            session.flush()
            minted[name] = tokens.mint(session, user, actor="test", now=datetime.now(timezone.utc)).token
    return minted


def start_serve(data: Path, trunk: tuple[str, int], sip_port: int, http_port: int, log: Path, redis_url: str,
                drain_s: float = 30.0, workers: int = 0) -> subprocess.Popen[str]:
    env = {**os.environ, "DUNLINE_DATA_DIR": str(data), "DUNLINE_SECRET_KEY": "a-long-console-secret-for-tests",
           "DUNLINE_AGENT_SIP_SECRET": SIP_SECRET, "DUNLINE_REDIS_URL": redis_url,
           "DUNLINE_TRUNK_HOST": trunk[0], "DUNLINE_TRUNK_PORT": str(trunk[1]), "DUNLINE_SIP_PORT": str(sip_port),
           "DUNLINE_HTTP_PORT": str(http_port), "DUNLINE_DRAIN_S": str(drain_s),
           "DUNLINE_TRANSCRIPTION_WORKERS": str(workers)}
    return subprocess.Popen([str(Path(sys.executable).parent / "dunline"), "serve", "--at", AT], env=env, text=True,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


async def wait_for(condition: Callable[[], bool], seconds: float, what: str, floor: Floor) -> float:
    """Seconds it took; fails naming `what` (and showing serve's output) when it does not come."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        assert floor.process.poll() is None, (what, floor.output())
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {floor.output()[-3000:]}")


@contextlib.asynccontextmanager
async def live_floor(tmp_path: Path, scripts: dict[str, Script], agents: int = 2, drain_s: float = 30.0,
                     workers: int = 0) -> AsyncIterator[Floor]:
    store = Store(f"sqlite:///{tmp_path / 'dunline.db'}")
    migrate.upgrade(store.engine)
    ensure_key_file(tmp_path / KEY_FILE)  # as `dunline db upgrade` leaves an installation: recordings sealed
    seed(store)
    names = [f"agent{n}" for n in range(1, agents + 1)]
    minted = provision(store, {"manager": Role.CAMPAIGN_MANAGER, **{name: Role.AGENT for name in names}})
    pstn = PstnSimulator(scripts=scripts, greeting_voice=VOICES / "debtor-hello.wav")  # a person says hello
    await pstn.start()
    sip_port, http_port = free_port(socket.SOCK_DGRAM), free_port()
    log = tmp_path / "serve.log"
    settings = Settings(agent_sip_secret=SecretStr(SIP_SECRET))
    bots = [AgentBot(name, agent_sip_password(settings, name), ("127.0.0.1", sip_port)) for name in names]
    redis_server = RedisServer()
    redis_server.start()

    def serve() -> subprocess.Popen[str]:
        return start_serve(tmp_path, pstn.address, sip_port, http_port, log, redis_server.url, drain_s, workers)
    floor = Floor(store, pstn, serve(), f"http://127.0.0.1:{http_port}", minted, log, bots, serve, redis_server,
                  ("127.0.0.1", sip_port))
    try:
        await wait_for(lambda: "dunline serving" in floor.output(), 30, "serve to start", floor)
        for bot in bots:
            assert await bot.start(), f"{bot.user} could not register"
        yield floor
    finally:
        for bot in bots:
            await bot.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(floor.process.pid, signal.SIGKILL)
        floor.process.wait()
        pstn.close()
        redis_server.stop()
        store.dispose()


async def post(session: aiohttp.ClientSession, floor: Floor, path: str, user: str, body: object = None) -> dict:  # type: ignore[type-arg]
    async with session.post(floor.api + path, json=body, headers=floor.headers(user)) as response:
        assert response.status in (200, 201), (response.status, await response.text())
        return await response.json()  # type: ignore[no-any-return]


async def create_and_start(session: aiohttp.ClientSession, floor: Floor, name: str) -> int:
    created = await post(session, floor, "/api/campaigns", "manager",
                         {"name": name, "segment": {"jurisdictions": ["US"]}, "dial_mode": "progressive",
                          "agent_group": "collectors"})
    campaign_id = int(created["id"])
    await post(session, floor, f"/api/campaigns/{campaign_id}/start", "manager")
    return campaign_id


async def agents_up(session: aiohttp.ClientSession, floor: Floor, agents: list[str]) -> None:
    """Each agent says ready; serve calls their phone and the nailed-up leg comes up."""
    states: list[dict] = []  # type: ignore[type-arg]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        states = [await post(session, floor, f"/api/agents/{agent}/state", agent, {"state": "ready"})
                  for agent in agents]
        if all(state["state"] == "ready" for state in states):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"agents not ready: {states}")


PEOPLE = {number: Script(Persona.PERSON, ring_s=0.3, talk_s=5.0) for number in NUMBERS}


async def test_item_1_api_start_dials_within_2s_pause_stops_dialling_within_1s_and_finish_ends_it(
        tmp_path: Path) -> None:
    async with live_floor(tmp_path, PEOPLE) as floor, aiohttp.ClientSession() as session:
        await agents_up(session, floor, ["agent1", "agent2"])
        assert floor.pstn.calls == []
        started = time.monotonic()
        campaign_id = await create_and_start(session, floor, "live")
        first = await wait_for(lambda: len(floor.pstn.calls) >= 1, 10, "the first INVITE", floor)
        assert time.monotonic() - started < 2.0 + 0.5, first  # the start request itself included
        await wait_for(lambda: any(c.answered for c in floor.pstn.calls), 10, "a call answered", floor)
        await post(session, floor, f"/api/campaigns/{campaign_id}/pause", "manager")
        await asyncio.sleep(1.0)
        dialled = len(floor.pstn.calls)
        assert dialled < len(NUMBERS), "the campaign dialled everyone before the pause could show"
        await wait_for(lambda: all(a.outcome is not AttemptOutcome.IN_FLIGHT for a in floor.attempts()), 15,
                       "the calls in progress to finish", floor)
        assert len(floor.pstn.calls) == dialled  # paused: nobody new was dialled
        assert any(a.outcome is AttemptOutcome.ANSWERED and a.conversation for a in floor.attempts()), \
            ([(a.outcome, a.conversation) for a in floor.attempts()], floor.output()[-3000:])
        await post(session, floor, f"/api/campaigns/{campaign_id}/finish", "manager")
        await asyncio.sleep(1.0)
        assert len(floor.pstn.calls) == dialled


async def test_item_7_sigterm_drains_within_its_limit_and_leaves_no_attempt_in_flight(tmp_path: Path) -> None:
    talkers = {number: Script(Persona.PERSON, ring_s=0.3, talk_s=60.0) for number in NUMBERS}
    async with live_floor(tmp_path, talkers, drain_s=2.0) as floor, aiohttp.ClientSession() as session:
        await agents_up(session, floor, ["agent1", "agent2"])
        await create_and_start(session, floor, "long calls")
        await wait_for(lambda: any(a.conversation and a.outcome is AttemptOutcome.IN_FLIGHT for a in floor.attempts()),
                       15, "a call in conversation", floor)
        dialled = len(floor.pstn.calls)
        floor.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        assert await asyncio.to_thread(floor.process.wait, 20) == 0, floor.output()
        assert time.monotonic() - signalled < 2.0 + 8.0, floor.output()  # the drain limit, then closing up
        assert len(floor.pstn.calls) == dialled  # nobody new dialled once the signal came
        attempts = floor.attempts()
        assert attempts and not any(a.outcome is AttemptOutcome.IN_FLIGHT for a in attempts), \
            [(a.id, a.outcome) for a in attempts]
        assert "stopped: every attempt closed" in floor.output()


async def test_issue15_c_sigterm_ends_calls_still_ringing_within_the_drain_limit(tmp_path: Path) -> None:
    """A drain that runs out hangs up the answered calls and cancels the ringing ones: no runner task is left
    waiting out a ring timeout (which held SIGTERM past the drain limit)."""
    ringing = {number: Script(Persona.NO_ANSWER) for number in NUMBERS}
    async with live_floor(tmp_path, ringing, drain_s=2.0) as floor, aiohttp.ClientSession() as session:
        await agents_up(session, floor, ["agent1", "agent2"])
        await create_and_start(session, floor, "ringing")
        await wait_for(lambda: bool(floor.pstn.calls) and any(a.outcome is AttemptOutcome.IN_FLIGHT
                                                              for a in floor.attempts()), 15, "a call ringing", floor)
        floor.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        assert await asyncio.to_thread(floor.process.wait, 40) == 0, floor.output()[-3000:]
        assert time.monotonic() - signalled < 2.0 + 8.0, floor.output()[-3000:]
        assert not any(a.outcome is AttemptOutcome.IN_FLIGHT for a in floor.attempts())


async def test_item_1_kill_9_then_restart_closes_the_dead_calls_and_the_campaign_resumes_by_itself(
        tmp_path: Path) -> None:
    talkers = {number: Script(Persona.PERSON, ring_s=0.3, talk_s=30.0) for number in NUMBERS}
    async with live_floor(tmp_path, talkers, drain_s=2.0) as floor, aiohttp.ClientSession() as session:
        await agents_up(session, floor, ["agent1", "agent2"])
        await create_and_start(session, floor, "crashy")
        await wait_for(lambda: sum(a.outcome is AttemptOutcome.IN_FLIGHT for a in floor.attempts()) >= 2, 15,
                       "two calls in progress", floor)
        os.killpg(floor.process.pid, signal.SIGKILL)
        floor.process.wait()
        before = floor.attempts()
        in_flight = {a.id: a.account_id for a in before if a.outcome is AttemptOutcome.IN_FLIGHT}
        floor.process = floor.restart()
        await wait_for(lambda: "dunline serving" in floor.output(), 30, "serve to start again", floor)
        for bot in floor.bots:
            assert await bot.register()  # the phones register again, as they would on their next refresh
        await agents_up(session, floor, ["agent1", "agent2"])
        await wait_for(lambda: len(floor.attempts()) > len(before), 15, "the campaign to resume by itself", floor)
        after = {a.id: a for a in floor.attempts()}
        for attempt_id in in_flight:
            assert after[attempt_id].outcome is AttemptOutcome.INTERRUPTED and after[attempt_id].ended_at
        new = [a for a in after.values() if a.id not in {b.id for b in before}]
        assert not {a.account_id for a in new} & set(in_flight.values())  # interrupted cases rest first
        floor.process.send_signal(signal.SIGTERM)  # the restarted server still stops within its drain limit
        signalled = time.monotonic()
        assert await asyncio.to_thread(floor.process.wait, 30) == 0, floor.output()[-3000:]
        assert time.monotonic() - signalled < 2.0 + 8.0, floor.output()[-3000:]
        assert not any(a.outcome is AttemptOutcome.IN_FLIGHT for a in floor.attempts())
    verify = subprocess.run([str(Path(sys.executable).parent / "dunline"), "audit", "verify"], text=True,
                            capture_output=True, env={**os.environ, "DUNLINE_DATA_DIR": str(tmp_path)}, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr


async def next_event(socket: aiohttp.ClientWebSocketResponse, wanted: Callable[[dict], bool],  # type: ignore[type-arg]
                     seconds: float = 10.0) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        event = await socket.receive_json(timeout=max(0.1, deadline - time.monotonic()))
        if wanted(event):
            return event  # type: ignore[no-any-return]
        seen.append(event)
    raise AssertionError(f"no such event; saw {seen}")


async def test_item_5_agent_state_api_and_events_websocket(tmp_path: Path) -> None:
    async with live_floor(tmp_path, PEOPLE, agents=2) as floor, aiohttp.ClientSession() as session:
        floor.tokens |= provision(floor.store, {"boss": Role.SUPERVISOR})
        async with session.post(floor.api + "/api/agents/agent2/state", json={"state": "ready"},
                                headers=floor.headers("agent1")) as refused:
            assert refused.status == 403  # an agent's token cannot set another agent's state
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused_events:
            await session.ws_connect(floor.api + "/api/agents/agent2/events", headers=floor.headers("agent1"))
        assert refused_events.value.status == 403  # nor read another agent's events
        async with session.ws_connect(floor.api + "/api/agents/agent1/events", headers=floor.headers("agent1")) as ws:
            assert (await ws.receive_json(timeout=5))["state"] == "logged_out"
            await agents_up(session, floor, ["agent1"])
            await next_event(ws, lambda e: e["type"] == "AgentStateChanged" and e["new"] == "ready")
            paused = await post(session, floor, "/api/agents/agent1/state", "boss", {"state": "paused", "reason": "coach"})
            assert paused["state"] == "paused" and paused["reason"] == "coach"  # a supervisor may, with a reason code
            await next_event(ws, lambda e: e["type"] == "AgentStateChanged" and e["new"] == "paused"
                             and e["reason"] == "coach")
            await create_and_start(session, floor, "pops")
            await asyncio.sleep(2.0)
            assert floor.pstn.calls == []  # paused: offered nothing (the pacer sees no ready agent)
            await post(session, floor, "/api/agents/agent1/state", "agent1", {"state": "ready"})
            pop = await next_event(ws, lambda e: e["type"] == "ScreenPop", 15)
            assert pop["agent_id"] == "agent1" and pop["context"]["account_id"] > 0
            await next_event(ws, lambda e: e["type"] == "CallEnded", 15)


async def test_issue15_a_served_calls_recording_is_transcribed_and_screened_by_a_worker_process(
        tmp_path: Path) -> None:
    find_model("whisper", "en")
    scripts = {number: Script(Persona.BUSY) for number in NUMBERS}
    scripts[NUMBERS[0]] = Script(Persona.PERSON, ring_s=0.3, talk_s=4.0)
    async with live_floor(tmp_path, scripts, agents=1, workers=1) as floor, aiohttp.ClientSession() as session:
        await agents_up(session, floor, ["agent1"])
        await create_and_start(session, floor, "transcribed")

        def screened() -> list[Attempt]:
            return [a for a in floor.attempts() if a.conversation and a.aftercall is AfterCallState.DONE]
        await wait_for(lambda: bool(screened()), 90, "a call transcribed and screened by a worker", floor)
        attempt = screened()[0]
        assert attempt.recording_path and attempt.recording_path.endswith(".wav.sealed")  # sealed at rest
        with SealedReader(Path(attempt.recording_path), MasterKeys(tmp_path / KEY_FILE).keyring()) as reader:
            assert reader.version == STREAM_VERSION and reader.complete  # as it was written, then closed
        assert transcript_file(attempt.recording_path) == Path(attempt.recording_path).with_name(
            f"{attempt.id}.transcript.json.sealed")


async def test_item_7_redis_away_means_no_new_dials_until_it_is_back(tmp_path: Path) -> None:
    """Fail closed: with Redis gone no INVITE leaves (one log line says why); when it is back, dialling
    resumes by itself."""
    callers = {number: Script(Persona.PERSON, ring_s=0.3, talk_s=1.0) for number in NUMBERS}
    async with live_floor(tmp_path, callers, agents=1) as floor, aiohttp.ClientSession() as session:
        await agents_up(session, floor, ["agent1"])
        floor.redis.stop()
        await create_and_start(session, floor, "outage")  # the API needs the case store only
        await asyncio.sleep(3.0)
        assert floor.pstn.calls == [], "dialled while Redis was away"
        assert floor.output().count("no campaign dials until both answer") == 1, floor.output()[-3000:]
        floor.redis.start()
        await wait_for(lambda: len(floor.pstn.calls) >= 1, 10, "dialling to resume with Redis back", floor)
        assert "campaigns dial again" in floor.output()
