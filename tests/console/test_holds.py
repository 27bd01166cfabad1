"""Holds over the API (real server, SQLite and PostgreSQL): listed with numbers masked, placed on an account or its
debtor, released with a reason, every change audited under the acting user; refusals leave with their ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from cases import Store
from cases.models import Account, AuditEntry, Debtor, Hold, HoldKind, Product, Role
from compliance.holds import place_hold
from console import build_app
from tests.conftest import REDIS_URL
from tests.console.conftest import StepClock, bearer, mint_token


@pytest.fixture
async def client(store: Store, clock: StepClock) -> AsyncIterator[TestClient]:
    redis_client = aioredis.from_url(REDIS_URL)
    async with TestClient(TestServer(build_app(store=store, redis_client=redis_client, clock=clock))) as test_client:
        yield test_client
    await redis_client.aclose()


def seed(store: Store) -> tuple[int, int]:
    """An account A1 of debtor D1, and a DNC hold on a number; (account id, debtor id)."""
    with store.session() as session:
        debtor = Debtor(external_ref="D1", full_name="王小明")
        session.add(debtor)
        session.flush()
        account = Account(debtor_id=debtor.id, creditor="Acme", account_ref="A1", product=Product.CREDIT_CARD,
                          currency="CNY", principal=Decimal(100), balance=Decimal(100), overdue_amount=Decimal(100),
                          jurisdiction="CN")
        session.add(account)
        session.flush()
        place_hold(session, kind=HoldKind.DNC, actor="t", source="dnc list", e164="+8613812345678")
        return account.id, debtor.id


async def call(client: TestClient, token: str, method: str, path: str, body: dict[str, Any] | None = None,
               status: int = 200) -> Any:
    response = await client.request(method, path, json=body, headers=bearer(token))
    answer = await response.json()
    assert response.status == status, answer
    return answer


def audited(store: Store) -> list[tuple[str, str, dict[str, Any]]]:
    with store.reading() as session:
        return [(e.actor, e.action, e.details) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("hold.%")).order_by(AuditEntry.seq))]


async def test_holds_are_placed_listed_and_released_with_a_reason_all_audited(store: Store,
                                                                            client: TestClient) -> None:
    account_id, debtor_id = seed(store)
    token = mint_token(store, Role.SUPERVISOR, username="sue")
    listed = await call(client, token, "GET", "/api/holds")
    assert listed["total"] == 1 and listed["holds"][0]["scope"] == {"type": "number", "id": None,
                                                                    "label": "+86138****5678"}
    cease = await call(client, token, "POST", "/api/holds", {"account": "A1", "kind": "cease", "scope": "debtor",
                                                             "note": "asked in writing"}, status=201)
    assert cease["scope"] == {"type": "debtor", "id": debtor_id, "label": "D1"} and cease["created_by"] == "sue"
    dispute = await call(client, token, "POST", "/api/holds",
                         {"account": "A1", "kind": "dispute", "until": "2027-01-31T18:00:00+08:00"}, status=201)
    assert dispute["scope"] == {"type": "account", "id": account_id, "label": "A1"}
    assert dispute["ends_at"].startswith("2027-01-31T10:00:00") and dispute["source"] == "console"
    assert dispute["starts_at"].startswith("2026-12-02T09:00:00")  # the API's clock (T0), not the wall clock

    assert [h["id"] for h in (await call(client, token, "GET", "/api/holds"))["holds"]] == [
        dispute["id"], cease["id"], listed["holds"][0]["id"]]
    assert [h["kind"] for h in (await call(client, token, "GET", "/api/holds?kind=cease"))["holds"]] == ["cease"]

    released = await call(client, token, "POST", f"/api/holds/{cease['id']}/release", {"reason": "withdrawn by phone"})
    assert released["released_by"] == "sue" and released["released_at"]
    assert [h["id"] for h in (await call(client, token, "GET", "/api/holds?active=false"))["holds"]] == [cease["id"]]
    assert (await call(client, token, "GET", "/api/holds?active=all"))["total"] == 3
    again = await call(client, token, "POST", f"/api/holds/{cease['id']}/release", {"reason": "twice"}, status=409)
    assert again["error_id"] == "hold_refused"
    await call(client, token, "POST", "/api/holds/9999/release", {"reason": "x"}, status=404)

    assert [(actor, action) for actor, action, _ in audited(store)] == [
        ("t", "hold.placed"), ("sue", "hold.placed"), ("sue", "hold.placed"), ("sue", "hold.released")]
    assert audited(store)[-1][2]["note"] == "withdrawn by phone"
    with store.reading() as session:
        hold = session.get(Hold, cease["id"])
        assert hold is not None and hold.debtor_id == debtor_id and hold.note == "asked in writing"


async def test_hold_requests_out_of_bounds_are_refused(store: Store, client: TestClient) -> None:
    seed(store)
    token = mint_token(store, Role.COMPLIANCE_REVIEWER)
    for body, parameter in (({"kind": "cease"}, "account"), ({"account": "A9", "kind": "cease"}, "account"),
                            ({"account": "A1", "kind": "vacation"}, "kind"),
                            ({"account": "A1", "kind": "cease", "scope": "planet"}, "scope"),
                            ({"account": "A1", "kind": "cease", "until": "soon"}, "until"),
                            ({"account": "A1", "kind": "cease", "colour": "red"}, "colour"),
                            ({"account": "A1", "kind": "cease", "note": "n" * 1001}, "note")):
        refused = await call(client, token, "POST", "/api/holds", body, status=400)
        assert refused["details"]["parameter"] == parameter, body
    for body in ({"account": "A1", "kind": "no_call_times"},  # a schedule is needed
                 {"account": "A1", "kind": "cease", "schedule": {"start": "09:00", "end": "10:00"}},
                 {"account": "A1", "kind": "cease", "until": "2000-01-01T00:00:00Z"}):
        assert (await call(client, token, "POST", "/api/holds", body, status=409))["error_id"] == "hold_refused"
    weekly = await call(client, token, "POST", "/api/holds", {
        "account": "A1", "kind": "no_call_times", "schedule": {"weekdays": [5, 6], "start": "09:00", "end": "12:00"}},
        status=201)
    assert weekly["schedule"] == {"weekdays": [5, 6], "start": "09:00", "end": "12:00"}
    for query in ("kind=vacation", "active=maybe", "limit=0", "offset=-1"):
        await call(client, token, "GET", f"/api/holds?{query}", status=400)
    await call(client, token, "POST", "/api/holds/1/release", {"reason": " "}, status=400)
    await call(client, token, "POST", "/api/holds/1/release", {}, status=400)


async def test_supervisors_reviewers_and_admins_keep_holds_others_may_not(store: Store, client: TestClient) -> None:
    seed(store)
    for role in (Role.AGENT, Role.CAMPAIGN_MANAGER):
        token = mint_token(store, role)
        await call(client, token, "GET", "/api/holds", status=403)
        await call(client, token, "POST", "/api/holds", {"account": "A1", "kind": "cease"}, status=403)
        await call(client, token, "POST", "/api/holds/1/release", {"reason": "x"}, status=403)
    for role in (Role.ADMIN, Role.SUPERVISOR, Role.COMPLIANCE_REVIEWER):
        await call(client, mint_token(store, role), "GET", "/api/holds")
    assert (await client.get("/api/holds")).status == 401


async def test_a_bounced_email_address_is_cleared_by_a_hold_keeper_audited(store: Store, client: TestClient) -> None:
    from datetime import datetime, timezone

    _, debtor_id = seed(store)
    with store.session() as session:
        session.get_one(Debtor, debtor_id).email_bounced_at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    agent = mint_token(store, Role.AGENT, username="amy")
    await call(client, agent, "POST", "/api/accounts/A1/email-ok", {}, status=403)
    rita = mint_token(store, Role.COMPLIANCE_REVIEWER, username="rita")
    assert (await call(client, rita, "POST", "/api/accounts/NOPE/email-ok", {}, status=404)) is not None
    cleared = await call(client, rita, "POST", "/api/accounts/A1/email-ok", {"note": "debtor confirmed"})
    assert cleared == {"account": "A1", "email_bounced": False}
    with store.session() as session:
        assert session.get_one(Debtor, debtor_id).email_bounced_at is None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "email.bounce_cleared")).one()
        assert (entry.actor, entry.entity_id, entry.details["note"]) == ("rita", str(debtor_id), "debtor confirmed")
    again = await call(client, rita, "POST", "/api/accounts/A1/email-ok", {}, status=409)
    assert again["error_id"] == "not_bounced"
