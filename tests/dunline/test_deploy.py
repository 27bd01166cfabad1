"""deploy/: the systemd units start `dunline` commands that exist and outwait serve's drain, their environment
files name only settings Dunline reads (with values it accepts), and the Redis and PostgreSQL settings are
taken by the servers this machine runs."""

import asyncio
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy import text

from cases import Store
from crypto.keys import ENVIRONMENT
from dunline.settings import Settings
from tests.conftest import require
from tests.integration.peers import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DUNLINE = str(Path(sys.executable).parent / "dunline")
UNITS = {"dunline-node.service": ("serve", "node.env"), "dunline-worker.service": ("worker", "worker.env")}


def environment(name: str) -> dict[str, str]:
    lines = (DEPLOY / "systemd" / name).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def directives(unit: str) -> dict[str, str]:
    lines = (DEPLOY / "systemd" / unit).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if re.match(r"^[A-Za-z]+=", line))


@pytest.mark.parametrize("name", ["node.env.example", "worker.env.example"])
def test_an_environment_file_sets_only_settings_dunline_reads_with_values_it_takes(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    values = environment(name)
    known = {f"DUNLINE_{field.upper()}" for field in Settings.model_fields} | {ENVIRONMENT}
    assert values and set(values) <= known, set(values) - known
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert str(settings.data_dir) == values["DUNLINE_DATA_DIR"]
    if "DUNLINE_NODE_ID" in values:
        assert settings.node_id == values["DUNLINE_NODE_ID"] and settings.sip_agent_proxy


@pytest.mark.parametrize("unit", UNITS)
def test_a_unit_starts_a_dunline_command_that_exists_and_outwaits_the_drain(unit: str) -> None:
    command, env = UNITS[unit]
    found = directives(unit)
    assert found["ExecStart"].endswith(f"/dunline {command}") and found["EnvironmentFile"] == f"/etc/dunline/{env}"
    assert set(environment(f"{env}.example")) <= set(environment("node.env.example")) | {"DUNLINE_TRANSCRIPTION_WORKERS"}
    done = subprocess.run([DUNLINE, command, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    drain = float(environment("node.env.example")["DUNLINE_DRAIN_S"])
    assert float(found["TimeoutStopSec"]) >= 2 * drain  # SIGTERM's drain, then the shutdown itself


async def test_redis_runs_with_the_settings(tmp_path: Path) -> None:
    require("redis-server")
    port = free_port(socket.SOCK_STREAM)
    server = await asyncio.create_subprocess_exec(
        "redis-server", str(DEPLOY / "redis" / "dunline.conf"), "--bind", "127.0.0.1", "--port", str(port),
        "--dir", str(tmp_path), "--daemonize", "no", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    client = aioredis.Redis(port=port)
    try:
        for _ in range(100):
            try:
                await client.ping()
                break
            except Exception:
                assert server.returncode is None, (await server.stdout.read()).decode()  # type: ignore[union-attr]
                await asyncio.sleep(0.05)
        settings = {key: (await client.config_get(key))[key] for key in ("maxmemory-policy", "appendonly", "appendfsync")}
        assert settings == {"maxmemory-policy": "noeviction", "appendonly": "yes", "appendfsync": "everysec"}
    finally:
        await client.aclose()
        server.terminate()
        await server.wait()


def test_postgresql_knows_every_setting_with_a_value_of_its_kind(pg_store: Store) -> None:
    lines = (DEPLOY / "postgresql" / "dunline.conf").read_text().splitlines()
    wanted = dict(re.match(r"^(\w+)\s*=\s*('[^']*'|\S+)", line).groups()  # type: ignore[union-attr]
                  for line in lines if line and not line.startswith("#"))
    with pg_store.engine.connect() as connection:
        kinds = dict(connection.execute(text("SELECT name, vartype FROM pg_settings")).all())
        enums = dict(connection.execute(text("SELECT name, enumvals FROM pg_settings WHERE vartype = 'enum'")).all())
    assert set(wanted) <= set(kinds), set(wanted) - set(kinds)
    for name, value in wanted.items():
        if kinds[name] == "bool":
            assert value in ("on", "off"), name
        elif kinds[name] == "enum":
            assert value.strip("'") in enums[name], name
        elif kinds[name] in ("integer", "real"):
            assert re.fullmatch(r"[\d.]+(kB|MB|GB|TB|ms|s|min|h|d)?", value), name
