"""Repayment plans over the real API (aiohttp server, real tokens, SQLite and PostgreSQL): a manager reads a
plan and reschedules it within the creditor's limits, dated by the API's clock; a refusal names the field; an
agent may do neither."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from cases import Store
from cases.models import Account, AuditEntry, Debtor, Product, Role, Source
from cases.plans import store_plan
from console import build_app
from ivr.terms import Instalment
from tests.conftest import REDIS_URL
from tests.console.conftest import StepClock, bearer, mint_token


@pytest.fixture
async def client(store: Store) -> AsyncIterator[TestClient]:
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=StepClock(datetime(2026, 4, 20, tzinfo=timezone.utc)))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
    await redis_client.aclose()


async def test_a_manager_reschedules_a_plan_and_an_agent_may_not(store: Store, client: TestClient) -> None:
    with store.session() as session:
        debtor = Debtor(external_ref="d-api", full_name="赵六")
        session.add(debtor)
        session.flush()
        account = Account(debtor_id=debtor.id, creditor="Acme Bank", account_ref="LN-API",
                          product=Product.CREDIT_CARD, currency="CNY", principal=Decimal("1200"),
                          balance=Decimal("1200"), overdue_amount=Decimal("0"), jurisdiction="CN")
        session.add(account)
        session.flush()
        plan_id = store_plan(session, account.id, [Instalment(n, date(2026, 3 + n, 1), Decimal("400"))
                                                   for n in (1, 2, 3)], source=Source.AGENT, actor="seed").id
    manager = mint_token(store, Role.CAMPAIGN_MANAGER, username="mia")
    agent = mint_token(store, Role.AGENT, username="ann")
    path = f"/api/plans/{plan_id}"
    assert (await client.get(path, headers=bearer(agent))).status == 403
    assert (await client.post(f"{path}/reschedule", json={"monthly": "600"}, headers=bearer(agent))).status == 403
    shown = await (await client.get(path, headers=bearer(manager))).json()
    assert [i["amount"] for i in shown["installments"]] == ["400.00"] * 3
    low = await client.post(f"{path}/reschedule", json={"monthly": "50"}, headers=bearer(manager))
    assert low.status == 422 and (await low.json())["error_id"] == "outside_limits"
    done = await client.post(f"{path}/reschedule", json={"monthly": "600"}, headers=bearer(manager))
    assert done.status == 200, await done.text()
    assert [(i["due_date"], i["amount"]) for i in (await done.json())["installments"]] == [
        ("2026-05-20", "600.00"), ("2026-06-20", "600.00")]
    assert (await client.get("/api/plans/999999", headers=bearer(manager))).status == 404
    with store.reading() as session:
        assert "plan.rescheduled" in session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "mia")).all()
