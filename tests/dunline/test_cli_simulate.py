"""`dunline simulate pstn` and `dunline simulate agents` as processes of their own (the floor bench's peers):
each starts, does its job over real SIP on 127.0.0.1 (and the real agent-state API), and stops cleanly on
SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import web
from pydantic import SecretStr

from campaigns.desk import AgentDesk
from campaigns.events import EventBus
from cases import Store, migrate
from cases.models import Role
from console import build_app
from dialer.agents import AgentState
from dialer.sip.uac import UserAgent
from dialer.switchboard import Switchboard
from dunline.settings import Settings
from dunline.telephony import agent_sip_password
from tests.conftest import REDIS_URL
from tests.dunline.test_server import SIP_SECRET, free_port, provision

DUNLINE = str(Path(sys.executable).parent / "dunline")


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    log = tmp_path / f"{args[0]}.log"
    env = {**os.environ, "DUNLINE_DATA_DIR": str(tmp_path), "DUNLINE_AGENT_SIP_SECRET": SIP_SECRET}
    process = subprocess.Popen([DUNLINE, "simulate", *args], env=env, text=True, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    return process, log


async def wait_for_line(process: subprocess.Popen[str], log: Path, text: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in log.read_text():
            return
        assert process.poll() is None, log.read_text()
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {text!r}: {log.read_text()}")


async def stop(process: subprocess.Popen[str], log: Path) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        assert await asyncio.to_thread(process.wait, 15) == 0, log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return log.read_text()


async def test_bench_simulate_pstn_answers_sip_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port(socket.SOCK_DGRAM)
    process, log = start(tmp_path, "pstn", "--port", str(port), "--seed", "3")
    await wait_for_line(process, log, f"pstn simulator on 127.0.0.1:{port}")
    probe = UserAgent()
    await probe.start()
    try:
        assert await probe.ping(("127.0.0.1", port), timeout=5.0)  # a carrier answering OPTIONS
    finally:
        probe.close()
    assert "pstn simulator stopped: 0 calls received" in await stop(process, log)


async def test_bench_simulate_agents_register_say_ready_over_the_api_and_stop_on_sigterm(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'dunline.db'}")
    migrate.upgrade(store.engine)
    names = ["bot1", "bot2", "bot3"]
    minted = provision(store, {name: Role.AGENT for name in names})
    (tmp_path / "tokens.json").write_text(json.dumps(minted))
    settings = Settings(agent_sip_secret=SecretStr(SIP_SECRET))
    board = Switchboard(password_of=lambda user: agent_sip_password(settings, user) if user in names else None)
    await board.start()
    bus = EventBus()
    desk = AgentDesk(board, bus=bus)
    redis_client = aioredis.from_url(REDIS_URL)
    runner = web.AppRunner(build_app(store=store, redis_client=redis_client, desk=desk, bus=bus,
                                     clock=lambda: datetime.now(timezone.utc)))
    await runner.setup()
    http_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", http_port).start()
    try:
        process, log = start(tmp_path, "agents", "--count", "3", "--prefix", "bot", "--server",
                             f"127.0.0.1:{board.address[1]}", "--api", f"http://127.0.0.1:{http_port}",
                             "--token-file", str(tmp_path / "tokens.json"))
        await wait_for_line(process, log, "3 of 3 agents ready", 30.0)
        assert all(desk.state(name).state is AgentState.READY and desk.state(name).phone_up for name in names)
        assert "agents stopped (3 were ready)" in await stop(process, log)
    finally:
        await runner.cleanup()
        await board.close()
        await redis_client.aclose()
        store.dispose()


def test_a_drawn_person_talks_within_the_simulators_talk_range() -> None:
    from dialer.simulate.pstn import Persona, PstnSimulator

    pstn = PstnSimulator(mix={Persona.PERSON: 1.0}, talk_s=(30.0, 60.0))
    try:
        talks = [pstn.script_for(f"+8613800000{n:03d}").talk_s for n in range(50)]
    finally:
        pstn.close()
    assert all(30.0 <= t <= 60.0 for t in talks) and max(talks) - min(talks) > 10.0


def test_bench_simulate_pstn_refuses_a_talk_range_upside_down(tmp_path: Path) -> None:
    process, log = start(tmp_path, "pstn", "--port", "0", "--talk", "60", "30")
    assert process.wait(30) != 0
    assert "--talk 60 30: the shortest talk is longer than the longest" in log.read_text()
