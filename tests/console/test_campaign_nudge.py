"""A status change over the API tells the campaign host of the same process at once (it need not wait for its
next poll of the campaigns table)."""

from __future__ import annotations

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from cases import Store
from cases.models import Role
from console import build_app
from console.campaigns import CampaignsChangedKey
from tests.campaigns.test_campaign_run import seed
from tests.conftest import REDIS_URL
from tests.console.conftest import bearer, mint_token


async def test_issue15_e_a_campaign_status_change_nudges_the_host(sqlite_store: Store) -> None:
    seed(sqlite_store)
    nudges: list[None] = []
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=sqlite_store, redis_client=redis_client)
    app[CampaignsChangedKey] = lambda: nudges.append(None)
    async with TestClient(TestServer(app), headers=bearer(mint_token(sqlite_store, Role.ADMIN))) as client:
        body = {"name": "nudged", "segment": {"jurisdictions": ["US"]}, "dial_mode": "progressive",
                "agent_group": "collectors"}
        created = await client.post("/api/campaigns", json=body)
        assert created.status == 201 and nudges == []  # a draft changes nothing a host runs
        campaign_id = (await created.json())["id"]
        for action in ("start", "pause"):
            assert (await client.post(f"/api/campaigns/{campaign_id}/{action}")).status == 200
        refused = await client.post(f"/api/campaigns/{campaign_id}/nonsense")
        assert refused.status == 404
    await redis_client.aclose()
    assert len(nudges) == 2
