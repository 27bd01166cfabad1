"""`dunline users token|tokens|revoke-token` end to end: a token minted by the CLI opens the real API, and
stops opening it once revoked (issue 15, item 6)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from typer.testing import CliRunner

from cases import Store
from cases.models import ApiToken, AuditEntry
from console import build_app
from dunline.cli.main import app

runner = CliRunner()
TOKEN = re.compile(r"dl_(\d+)_([A-Za-z0-9_-]{43})")


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


async def _status(store: Store, token: str) -> int:
    dead = aioredis.from_url("unix:///tmp/dunline-no-such.sock")  # /api routes never touch Redis
    async with TestClient(TestServer(build_app(store=store, redis_client=dead))) as client:
        status = (await client.get("/api/cases", headers={"Authorization": f"Bearer {token}"})).status
    await dead.aclose()
    return status


async def test_item_6_users_token_mints_lists_and_revokes(admin: str, fresh_install: Path) -> None:
    assert run("users", "add", "mei", "--role", "campaign_manager")[0] == 0
    code, out = run("users", "token", "mei", "--days", "30")
    assert code == 0, out
    found = TOKEN.search(out)
    assert found and "shown once" in out, out
    token, token_id, secret = found.group(0), found.group(1), found.group(2)

    store = Store(f"sqlite:///{fresh_install / 'var' / 'dunline.db'}")
    try:
        with store.reading() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.id == int(token_id))).one()
            audit = list(session.scalars(select(AuditEntry).where(AuditEntry.entity == "api_token",
                                                                  AuditEntry.entity_id == int(token_id))))
        assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest() and row.expires_at is not None
        assert [entry.action for entry in audit] == ["api_token.minted"]
        assert secret not in str(audit[0].details)
        assert await _status(store, token) == 200

        code, out = run("users", "tokens", "mei")
        assert code == 0 and token_id in out and "active" in out and secret not in out, out

        assert run("users", "revoke-token", token_id)[0] == 0
        code, out = run("users", "tokens", "mei")
        assert code == 0 and "revoked" in out, out
        assert await _status(store, token) == 401
        code, out = run("users", "revoke-token", token_id)
        assert code == 1 and "already revoked" in out
        with store.reading() as session:
            actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "api_token",
                                                                           AuditEntry.entity_id == int(token_id))))
        assert actions == ["api_token.minted", "api_token.revoked"]
    finally:
        store.dispose()
    assert run("audit", "verify")[0] == 0


@pytest.mark.parametrize("args", [("users", "token", "nobody"), ("users", "tokens", "nobody"),
                                  ("users", "revoke-token", "99"), ("users", "token", "mei", "--days", "0")])
def test_item_6_token_commands_refuse_unknown_users_and_tokens(admin: str, args: tuple[str, ...]) -> None:
    assert run("users", "add", "mei", "--role", "campaign_manager")[0] == 0
    code, out = run(*args)
    assert code != 0 and "DUNLINE_TOKEN" not in out, out
