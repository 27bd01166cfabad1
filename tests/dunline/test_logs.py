"""Process logging: the access log of a real server leaves personal data out (issue 14, probe item 16)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from cases import Store
from console import build_app
from dunline.logs import configure_logging


@pytest.fixture
def process_log() -> Iterator[io.StringIO]:
    """What the process handler writes (configure_logging's own handler, pointed at a buffer); the test run
    gets its handlers and filters back afterwards."""
    root, access = logging.getLogger(), logging.getLogger("aiohttp.access")
    handlers, level, filters = root.handlers[:], root.level, access.filters[:]
    configure_logging("INFO")
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    root.handlers[:], access.filters[:] = handlers, filters
    root.setLevel(level)


async def test_probe_16_access_log_is_scrubbed(sqlite_store: Store, process_log: io.StringIO) -> None:
    dead = aioredis.from_url("unix:///tmp/dunline-no-such.sock")
    async with TestClient(TestServer(build_app(store=sqlite_store, redis_client=dead))) as client:
        await client.get("/api/cases?phone=13868106871&alt=%2B8613868106871&e164=%2B12125550123"
                         "&dob=1977-09-16&slash=1977%2F09%2F16&compact=19770916&id=110101199003074512",
                         headers={"Referer": "http://crm.example/debtor?phone=13868106871"})
    log = process_log.getvalue()
    assert "GET /api/cases?phone=138****6871" in log, log  # the access line itself was written
    for leaked in ("13868106871", "8613868106871", "2125550123", "09-16", "09%2F16", "0916", "199003074512"):
        assert leaked not in log, leaked
    configure_logging("INFO")  # configuring twice does not stack filters
    assert len(logging.getLogger("aiohttp.access").filters) == 1
