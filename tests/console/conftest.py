"""Console fixtures: a real aiohttp server over a real case store (both backends) and a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from cases import Store
from console import build_app
from dunline.redis_server import EmbeddedRedis
from tests.conftest import REDIS_URL


@pytest.fixture
def embedded_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(Path("/tmp") / f"dl-{tmp_path.name}.sock", tmp_path / "redis") as server:
        yield server


@pytest.fixture
async def api(store: Store) -> AsyncIterator[TestClient]:
    """The API over `store` on SQLite and PostgreSQL. The case and campaign routes never touch Redis, so the
    client is only built (it connects lazily) and /healthz is tested with the embedded server elsewhere."""
    redis_client = aioredis.from_url(REDIS_URL)
    async with TestClient(TestServer(build_app(store=store, redis_client=redis_client))) as client:
        yield client
    await redis_client.aclose()
