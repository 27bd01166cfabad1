"""The unmatched payments queue over the real API (aiohttp server, real tokens, SQLite and PostgreSQL): a manager
lists the lines no rule matched (payers masked), resolves one under their own name, and cannot resolve it twice;
an agent may do neither."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from cases import Store
from cases.models import Account, AuditEntry, Role
from cases.payments import import_statement
from console import build_app
from tests.cases.test_payments import line, seed
from tests.conftest import REDIS_URL
from tests.console.conftest import StepClock, bearer, mint_token


@pytest.fixture
async def client(store: Store) -> AsyncIterator[TestClient]:
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=StepClock(datetime(2026, 3, 12, tzinfo=timezone.utc)))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
    await redis_client.aclose()


async def test_a_manager_resolves_an_unmatched_line_once_and_an_agent_may_not(store: Store,
                                                                              client: TestClient) -> None:
    with store.session() as session:
        ids = seed(session)
        import_statement(session, [line("T-9", "300.00", "李四", None)], "import")  # two 李四 owe 300: ambiguous
    manager = mint_token(store, Role.CAMPAIGN_MANAGER, username="mia")
    agent = mint_token(store, Role.AGENT, username="ann")

    listed = await client.get("/api/payments/unmatched", headers=bearer(manager))
    (waiting,) = (await listed.json())["lines"]
    assert (waiting["txn_id"], waiting["amount"], waiting["payer"]) == ("T-9", "300.00", "李*")
    assert sorted(waiting["candidates"]) == sorted([ids["LN-0002"], ids["LN-0003"]])
    assert (await client.get("/api/payments/unmatched", headers=bearer(agent))).status == 403
    path = f"/api/payments/unmatched/{waiting['id']}/resolve"
    assert (await client.post(path, json={"account_id": ids["LN-0003"]}, headers=bearer(agent))).status == 403

    bad = await client.post(path, json={"account": ids["LN-0003"]}, headers=bearer(manager))
    assert bad.status == 400  # the field is named account_id
    done = await client.post(path, json={"account_id": ids["LN-0003"]}, headers=bearer(manager))
    assert done.status == 200 and (await done.json())["amount"] == "300.00"
    again = await client.post(path, json={"account_id": ids["LN-0002"]}, headers=bearer(manager))
    assert again.status == 409 and (await again.json())["error_id"] == "not_resolvable"
    with store.reading() as session:
        assert session.get_one(Account, ids["LN-0003"]).balance == Decimal("600.00")
        assert session.get_one(Account, ids["LN-0002"]).balance == Decimal("900.00")
        assert "payment.resolve" in session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "mia")).all()
    assert (await (await client.get("/api/payments/unmatched", headers=bearer(manager))).json())["lines"] == []
