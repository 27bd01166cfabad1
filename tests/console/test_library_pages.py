"""The legal library in the console (issue 17): `/library` searched in Chinese and English and `/library/{entry}`
for every signed-in role, and the links into it from a dial receipt's checks and the rule packs' source lines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from cases import Store
from cases.models import Account, Attempt, Debtor, Product, Role
from console import build_app
from tests.conftest import REDIS_URL
from tests.console.conftest import T0, StepClock, bearer, mint_token


@pytest.fixture
async def console(store: Store, clock: StepClock) -> AsyncIterator[tuple[TestClient, dict[Role, str]]]:
    tokens = {role: mint_token(store, role) for role in Role}
    redis_client = aioredis.from_url(REDIS_URL)
    async with TestClient(TestServer(build_app(store=store, redis_client=redis_client, clock=clock))) as client:
        yield client, tokens
    await redis_client.aclose()


async def test_every_role_searches_the_library_in_both_languages(console: tuple[TestClient, dict[Role, str]]) -> None:
    client, tokens = console
    for role, token in tokens.items():
        page = await client.get("/library", params={"q": "骚扰"}, headers=bearer(token))
        assert page.status == 200, role
        assert 'href="/library/us.fdcpa.806"' in await page.text()
    english = await (await client.get("/library", params={"q": "1006.14", "lang": "en"},
                                      headers=bearer(tokens[Role.AGENT]))).text()
    assert "2 of 25 entries match" in english and 'data-entry="us.reg-f.1006.14b2iB"' in english
    assert 'href="/library"' in english  # the navigation names the library for an agent too
    none = await (await client.get("/library", params={"q": "xyzzy", "lang": "zh"},
                                   headers=bearer(tokens[Role.AGENT]))).text()
    assert "没有匹配的条目" in none
    entry = await client.get("/library/cn.civil-code.1033", params={"lang": "zh"}, headers=bearer(tokens[Role.AGENT]))
    html = await entry.text()
    assert entry.status == 200 and "隐私权" in html and "《中华人民共和国民法典》第一千零三十三条" in html
    assert "intrude on the peace" in html and "2021-01-01" in html and "https://flk.npc.gov.cn/" in html
    assert "CN: No collection calls between 22:00 and 08:00" in html  # the pack line citing it, unlinked for an agent
    assert "<code>harassment_abuse</code>" in html
    admin = await (await client.get("/library/cn.civil-code.1033", headers=bearer(tokens[Role.ADMIN]))).text()
    assert 'href="/admin/rulepacks#pack-CN"' in admin
    assert (await client.get("/library/no.such.entry", headers=bearer(tokens[Role.AGENT]))).status == 404
    assert (await client.get("/library")).status == 401


async def test_receipt_lines_and_pack_sources_link_to_their_entries(store: Store,
                                                                    console: tuple[TestClient, dict[Role, str]]) -> None:
    client, tokens = console
    with store.session() as session:
        debtor = Debtor(external_ref="d1", full_name="x")
        session.add(debtor)
        session.flush()
        account = Account(debtor_id=debtor.id, creditor="Acme", account_ref="A-1", product=Product.CREDIT_CARD,
                          currency="USD", principal=Decimal(1), balance=Decimal(1), overdue_amount=Decimal(1),
                          jurisdiction="US-FL")
        session.add(account)
        session.flush()
        receipts = [{"verdict": "allowed", "evaluated_at": T0.isoformat(),
                     "pack": {"name": "US-FL", "version": version, "title": "Florida"},
                     "checks": [{"rule": "calling_window", "passed": True, "saw": {}},
                                {"rule": "attempts_per_debt_7d", "passed": True, "saw": {}},
                                {"rule": "not_in_flight", "passed": True, "saw": {}}]}
                    for version in ("2026.11.1+campaign", "2020.1.1")]
        attempts = [Attempt(account_id=account.id, number_e164="+13055550100", started_at=T0, receipt=receipt)
                    for receipt in receipts]
        session.add_all(attempts)
        session.flush()
        ids = [a.id for a in attempts]
    reviewer = bearer(tokens[Role.COMPLIANCE_REVIEWER])
    html = await (await client.get(f"/review/attempts/{ids[0]}/receipt", headers=reviewer)).text()
    assert '<a href="/library/us.fl.559.72-17">Fla. Stat. 559.72(17)</a>' in html  # Florida's own line first
    assert 'href="/library/us.reg-f.1006.6b1"' in html  # then the federal pack it extends
    assert '<a href="/library/us.reg-f.1006.14b2iA">12 CFR 1006.14(b)(2)(i)(A)</a>' in html
    assert html.count('href="/library/') == 4 and "version 2026.11.1" in html  # not_in_flight cites no law
    old = await (await client.get(f"/review/attempts/{ids[1]}/receipt", headers=reviewer)).text()
    assert "does not document this pack version" in old
    packs = await (await client.get("/admin/rulepacks", headers=bearer(tokens[Role.ADMIN]))).text()
    assert '<a class="cite" href="/library/us.tcpa.227b1Aiii">[TCPA, 47 U.S.C. 227(b)(1)(A)(iii)]</a>' in packs
    assert "[library:" not in packs
