"""Every failure leaves the API as a JSON body with an error_id (issue 14, probe items 14 and 15)."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from cases import Store
from cases.models import Role
from console import access, build_app
from tests.console.conftest import bearer, mint_token

# Well formed, so that checking it needs the database: while that is down the answer is 503, not 401.
ANY_TOKEN = {"Authorization": "Bearer dl_1_" + "x" * 43}
INTERNALS = ("Traceback", "sqlite", "psycopg", "OperationalError", "Exception", "connection", "127.0.0.1")


async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError("secret internals for +8613868106871")


async def test_probe_15_unexpected_errors_are_json_with_a_logged_reference(
        sqlite_store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = aioredis.from_url("unix:///tmp/dunline-no-such.sock")
    app = build_app(store=sqlite_store, redis_client=dead)
    app.router.add_get("/api/boom", _boom)
    monkeypatch.setitem(access.ACCESS, ("GET", "/api/boom"), frozenset(Role))
    token = mint_token(sqlite_store, Role.AGENT)
    async with TestClient(TestServer(app)) as client:
        with caplog.at_level(logging.ERROR, logger="console"):
            response = await client.get("/api/boom", headers=bearer(token))
        body = await response.json()
    assert response.status == 500 and body["error_id"] == "internal"
    assert re.fullmatch(r"[0-9a-f]{16}", body["reference"]) and "secret" not in await response.text()
    logged = [r for r in caplog.records if body["reference"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the operator finds the traceback by the reference


async def test_probe_15_aiohttp_http_errors_are_json(api: TestClient) -> None:
    for method, path, status, error_id in (("GET", "/api/no/such/thing", 404, "not_found"),
                                           ("DELETE", "/api/cases", 405, "method_not_allowed"),
                                           ("POST", "/api/campaigns/late/teleport", 404, "no_action")):
        response = await api.request(method, path)
        assert response.status == status and (await response.json())["error_id"] == error_id


@pytest.fixture(params=["sqlite", "postgresql"])
async def dead_database_api(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TestClient]:
    """The API over a store whose database went away after start-up: a SQLite file whose directory was
    removed, or a PostgreSQL URL on a port nothing listens on."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'gone' / 'cases.db'}")  # creates the directory
        shutil.rmtree(tmp_path / "gone")
    else:
        store = Store("postgresql+psycopg://postgres@127.0.0.1:9/dunline", connect_args={"connect_timeout": 2})
    dead_redis = aioredis.from_url("unix:///tmp/dunline-no-such.sock")
    async with TestClient(TestServer(build_app(store=store, redis_client=dead_redis))) as client:
        yield client
    store.dispose()


async def test_probe_14_database_down_answers_json_503(dead_database_api: TestClient) -> None:
    for method, path, payload in (("GET", "/api/cases", None), ("GET", "/api/campaigns", None),
                                  ("GET", "/api/campaigns/late", None),
                                  ("POST", "/api/campaigns", {"name": "late", "agent_group": "g"}),
                                  ("POST", "/api/campaigns/late/start", None)):
        response = await dead_database_api.request(method, path, json=payload, headers=ANY_TOKEN)
        text = await response.text()
        assert response.status == 503 and response.content_type == "application/json", (path, text)
        assert (await response.json())["error_id"] == "database_unavailable"
        assert not [word for word in INTERNALS if word.lower() in text.lower()], text
    health = await dead_database_api.get("/healthz")
    assert health.status == 503 and (await health.json())["status"] == "degraded"
