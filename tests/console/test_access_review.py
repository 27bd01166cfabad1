"""The access review (issue 17): views of debtors' data made through the real API (the agent desktop's case pop,
a reviewer's call) read back from the audit log as CSV and as a page, filtered by user, debtor and time, the
operator who viewed far more cases than they called flagged, the review itself audited, and only administrators
and compliance reviewers let in. A real aiohttp server over the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from cases import Store
from cases.access_review import view_tallies
from cases.models import Account, Attempt, AttemptOutcome, AuditEntry, Debtor, Phone, Product, Role, User
from console import build_app
from tests.conftest import REDIS_URL
from tests.console.conftest import T0, StepClock, bearer, mint_token

DEBTORS = 12
ROLES = {"ada": Role.ADMIN, "rita": Role.COMPLIANCE_REVIEWER, "li": Role.AGENT, "zhou": Role.SUPERVISOR,
         "mei": Role.CAMPAIGN_MANAGER}


@dataclass
class Office:
    client: TestClient
    store: Store
    tokens: dict[str, str]
    attempts: list[int]  # one per debtor d00..d11, li took the first two

    async def get(self, name: str, path: str, **params: str):  # type: ignore[no-untyped-def]
        return await self.client.get(path, params=params, headers=bearer(self.tokens[name]))

    async def csv(self, name: str = "ada", **params: str) -> list[dict[str, str]]:
        response = await self.get(name, "/api/audit/access.csv", **params)
        assert response.status == 200, await response.text()
        assert response.content_type == "text/csv"
        return list(csv.DictReader(io.StringIO(await response.text())))


def seed(store: Store) -> list[int]:
    with store.session() as session:
        li = session.scalar(select(User.id).where(User.username == "li"))
        ids = []
        for n in range(DEBTORS):
            debtor = Debtor(external_ref=f"d{n:02}", full_name=f"债务人{n}")
            debtor.phones.append(Phone(e164=f"+86138000000{n:02}"))
            session.add(debtor)
            session.flush()
            account = Account(debtor_id=debtor.id, creditor="Acme Bank", account_ref=f"A-{n:02}",
                              product=Product.CREDIT_CARD, currency="CNY", principal=Decimal("900"),
                              balance=Decimal("900"), overdue_amount=Decimal("100"), due_date=T0.date(),
                              jurisdiction="CN")
            session.add(account)
            session.flush()
            attempt = Attempt(account_id=account.id, phone_id=debtor.phones[0].id, number_e164=debtor.phones[0].e164,
                              agent_id=li if n < 2 else None, started_at=T0 - timedelta(hours=1),
                              ended_at=T0 - timedelta(minutes=55), outcome=AttemptOutcome.ANSWERED, conversation=True)
            session.add(attempt)
            session.flush()
            ids.append(attempt.id)
        return ids


@pytest.fixture
async def office(store: Store, clock: StepClock) -> AsyncIterator[Office]:
    tokens = {name: mint_token(store, role, username=name) for name, role in ROLES.items()}
    attempts = seed(store)
    redis_client = aioredis.from_url(REDIS_URL)
    async with TestClient(TestServer(build_app(store=store, redis_client=redis_client, clock=clock))) as client:
        office = Office(client, store, tokens, attempts)
        for attempt_id in attempts[:2]:  # li looks at the cases of the two calls li took
            assert (await office.get("li", f"/api/desk/case/{attempt_id}")).status == 200
        for attempt_id in attempts:  # the supervisor looks at every case, calling none
            assert (await office.get("zhou", f"/api/desk/case/{attempt_id}")).status == 200
        assert (await office.get("rita", f"/api/review/calls/{attempts[3]}")).status == 200
        yield office
    await redis_client.aclose()


def audited(store: Store, action: str) -> list[AuditEntry]:
    with store.reading() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


async def test_every_view_made_through_the_api_is_in_the_auditors_csv(office: Office) -> None:
    rows = await office.csv()
    assert len(rows) == 2 + DEBTORS + 1
    assert list(rows[0]) == ["seq", "at", "actor", "action", "what", "entity", "entity_id", "debtor_ref", "account_ref",
                             "attempt_id", "unmasked"]
    newest = rows[0]  # newest first: the reviewer's look at a call, traced from the attempt to its debtor
    assert (newest["actor"], newest["action"], newest["what"], newest["entity"]) == \
        ("rita", "personal_data.viewed", "call", "attempt")
    assert (newest["debtor_ref"], newest["account_ref"], newest["attempt_id"]) == ("d03", "A-03", str(office.attempts[3]))
    desk = [row for row in rows if row["actor"] == "li"]
    assert sorted(row["debtor_ref"] for row in desk) == ["d00", "d01"]
    assert all(row["action"] == "case.viewed" and row["what"] == "agent_desktop" and "full_name" in row["unmasked"]
               for row in desk)
    assert {row["debtor_ref"] for row in rows if row["actor"] == "zhou"} == {f"d{n:02}" for n in range(DEBTORS)}
    assert "债务人" not in "".join(map(str, rows))  # references, never the names themselves

    assert [row["debtor_ref"] for row in await office.csv(user="li")] == ["d01", "d00"]
    assert sorted(row["actor"] for row in await office.csv(debtor="d03")) == ["rita", "zhou"]
    assert await office.csv(debtor="d99") == [] and await office.csv(user="nobody") == []
    by_zhou = [row for row in rows if row["actor"] == "zhou"]
    since = by_zhou[-1]["at"]  # zhou's first view; `at` is when it happened: boundaries come from the log
    assert len(await office.csv(since=since)) == DEBTORS + 1
    assert len(await office.csv(since=since, until=by_zhou[0]["at"])) == DEBTORS - 1
    assert [row["actor"] for row in await office.csv(user="zhou", debtor="d00", since=since)] == ["zhou"]

    bad = await office.get("ada", "/api/audit/access.csv", since="last tuesday")
    assert bad.status == 400 and (await bad.json())["details"]["parameter"] == "since"
    reviews = audited(office.store, "audit.access_reviewed")
    assert len(reviews) == 8 and {r.actor for r in reviews} == {"ada"}  # the refused request read nothing
    assert reviews[1].details == {"format": "csv", "rows": 2, "user": "li", "ratio": 3.0, "min_views": 10}
    assert reviews[2].details["debtor"] == "d03"


async def test_the_operator_who_viewed_far_more_than_called_is_flagged(office: Office) -> None:
    with office.store.reading() as session:
        tallies = {t.actor: t for t in view_tallies(session)}
        assert [(t.cases_viewed, t.cases_called, t.flagged) for t in (tallies["zhou"], tallies["li"], tallies["rita"])] \
            == [(DEBTORS, 0, True), (2, 2, False), (1, 0, False)]  # a reviewer views without calling by trade
        assert tallies["li"].ratio == 1.0 and tallies["zhou"].ratio is None
        assert not {t.actor: t for t in view_tallies(session, min_views=DEBTORS + 1)}["zhou"].flagged
        assert view_tallies(session)[0].actor == "zhou"  # flagged first
    page = await office.get("rita", "/review/access")
    assert page.status == 200
    html = await page.text()
    assert '<tr data-actor="zhou" class="bad">' in html and "FLAGGED" in html
    assert '<tr data-actor="li" class="">' in html
    quiet = await (await office.get("rita", "/review/access", min_views="13", lang="zh")).text()
    assert "异常</td>" not in quiet and '<tr data-actor="zhou" class="">' in quiet
    only_d03 = await (await office.get("ada", "/review/access", debtor="d03")).text()
    assert only_d03.count("<td>A-03</td>") == 2 and "<td>A-04</td>" not in only_d03
    assert 'href="/api/audit/access.csv?debtor=d03"' in only_d03
    pages = audited(office.store, "audit.access_reviewed")
    assert [(r.actor, r.details["format"]) for r in pages] == [("rita", "page"), ("rita", "page"), ("ada", "page")]


async def test_only_administrators_and_compliance_reviewers_may_review_access(office: Office) -> None:
    for name in ("li", "zhou", "mei"):
        assert (await office.get(name, "/api/audit/access.csv")).status == 403
        assert (await office.get(name, "/review/access")).status == 403
    assert (await office.client.get("/api/audit/access.csv")).status == 401
    assert len(await office.csv("rita")) == len(await office.csv("ada"))
    assert {r.actor for r in audited(office.store, "audit.access_reviewed")} == {"rita", "ada"}
