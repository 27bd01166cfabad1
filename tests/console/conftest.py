"""Console fixtures: a real aiohttp server over a real case store (both backends) and a real Redis, reached with
real API tokens minted for real users (`console.tokens`), on an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from cases import Store
from cases.models import Role, User
from console import build_app, tokens
from dunline.redis_server import EmbeddedRedis
from tests.conftest import REDIS_URL

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


@dataclass
class StepClock:
    """The API's clock: stands still until a test moves it."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def mint_token(store: Store, role: Role, *, username: str | None = None, days: int | None = None,
               now: datetime = T0) -> str:
    """A new user of `role` (named after it unless told) and a token minted for it."""
    with store.session() as session:
        user = User(username=username or role.value, display_name=username or role.value, role=role)
        session.add(user)
        session.flush()
        return tokens.mint(session, user, actor="test", now=now, days=days).token


def token_id(token: str) -> int:
    parsed = tokens.parse(token)
    assert parsed is not None, token
    return parsed[0]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def embedded_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(Path("/tmp") / f"dl-{tmp_path.name}.sock", tmp_path / "redis") as server:
        yield server


@pytest.fixture
async def anonymous(store: Store, clock: StepClock) -> AsyncIterator[TestClient]:
    """The API over `store` on SQLite and PostgreSQL, with no credentials. The case and campaign routes never
    touch Redis, so the client is only built (it connects lazily) and /healthz is tested with the embedded
    server elsewhere."""
    redis_client = aioredis.from_url(REDIS_URL)
    async with TestClient(TestServer(build_app(store=store, redis_client=redis_client, clock=clock))) as client:
        yield client
    await redis_client.aclose()


@pytest.fixture
async def api(store: Store, clock: StepClock) -> AsyncIterator[TestClient]:
    """The same API, every request carrying an admin's token (the tests that use it are about inputs, not
    access)."""
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=clock)
    async with TestClient(TestServer(app), headers=bearer(mint_token(store, Role.ADMIN))) as client:
        yield client
    await redis_client.aclose()
