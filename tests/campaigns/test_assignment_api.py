"""Assignment, queues and templates over the real API (aiohttp server, real tokens, SQLite and PostgreSQL): a
supervisor sets profiles and runs the rules (dry run first), the agent reads their own queue and no one
else's, templates are saved, refused with the unknown variable or the screener's finding, listed and rendered
masked; every write under the acting user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from cases import Store
from cases.models import AuditEntry, Role
from console import build_app
from tests.campaigns.assignment_seed import NOW, add_case
from tests.conftest import REDIS_URL
from tests.console.conftest import StepClock, bearer, mint_token


@pytest.fixture
async def client(store: Store) -> AsyncIterator[TestClient]:
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=StepClock(NOW))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
    await redis_client.aclose()


async def call(client: TestClient, token: str, method: str, path: str, body: dict[str, Any] | None = None,
               status: int = 200, **params: str) -> Any:
    response = await client.request(method, path, json=body, headers=bearer(token), params=params)
    answer = await response.json()
    assert response.status == status, answer
    return answer


async def test_a_supervisor_assigns_and_each_agent_reads_their_own_queue(store: Store, client: TestClient) -> None:
    boss = mint_token(store, Role.SUPERVISOR, username="boss", now=NOW)
    amy = mint_token(store, Role.AGENT, username="amy", now=NOW)
    mint_token(store, Role.AGENT, username="bob", now=NOW)
    ids = [add_case(store, f"C{n}", dpd=10 * n, balance=str(1000 * n)) for n in range(1, 4)]
    late = add_case(store, "LATE", dpd=40)  # the shipped rules' late team has nobody: its pool
    for name in ("amy", "bob"):
        profile = await call(client, boss, "POST", f"/api/agents/{name}/profile",
                             {"team": "early", "languages": ["zh"], "skills": ["cn"]})
        assert profile == {"agent": name, "team": "early", "skills": ["cn"], "languages": ["zh"], "absent": False}
    await call(client, boss, "POST", "/api/agents/boss/profile", {"team": "x"}, status=404)
    await call(client, boss, "POST", "/api/agents/amy/profile", {"languages": ["fr"]}, status=400)

    dry = await call(client, boss, "POST", "/api/assignment/run", {"dry_run": True})
    assert dry["dry_run"] and dry["changed"] == 4
    assert (await call(client, boss, "GET", "/api/assignment"))["assignments"] == []  # the dry run wrote nothing
    run = await call(client, boss, "POST", "/api/assignment/run", {})
    assert run["changed"] == 4 and run["by_place"]["pool:late"] == 1
    assert (await call(client, boss, "POST", "/api/assignment/run", {}))["changed"] == 0

    mine = await call(client, amy, "GET", "/api/queue")
    assert mine["agent"] == "amy" and mine["cases"]
    assert [c["priority"] for c in mine["cases"]] == sorted((c["priority"] for c in mine["cases"]), reverse=True)
    assert all(c["debtor"] == "王**" and c["progress"] == "not_contacted" for c in mine["cases"])
    refused = await call(client, amy, "GET", "/api/queue", status=403, agent="bob")
    assert refused["error_id"] == "forbidden"
    bobs = await call(client, boss, "GET", "/api/queue", agent="bob")
    assert {c["account_id"] for c in bobs["cases"]} | {c["account_id"] for c in mine["cases"]} == set(ids)
    pooled = (await call(client, boss, "GET", "/api/assignment"))["assignments"]
    assert [(a["agent"], a["pool"], a["rule"]) for a in pooled if a["account_id"] == late] == [
        (None, "late", "late-cn")]
    await call(client, amy, "POST", "/api/assignment/run", {}, status=403)
    page = await client.get("/queue", headers=bearer(amy), params={"lang": "en"})
    html = await page.text()
    assert page.status == 200 and "Work queue" in html and "not contacted" in html
    assert all(f'data-account="{c["account_id"]}"' in html for c in mine["cases"]) and "王小明" not in html
    with store.reading() as session:
        actors = set(session.scalars(select(AuditEntry.actor).where(
            AuditEntry.action.in_(["case.assigned", "agent.profile_changed"]))))
    assert actors == {"boss"}


async def test_templates_are_saved_refused_listed_and_rendered(store: Store, client: TestClient) -> None:
    manager = mint_token(store, Role.CAMPAIGN_MANAGER, username="mia", now=NOW)
    agent = mint_token(store, Role.AGENT, username="amy", now=NOW)
    account = add_case(store, "LN-77778888", dpd=45, balance="5600", national_id="110101199001011234")

    unknown = await call(client, manager, "POST", "/api/templates", {
        "stage": "early", "channel": "sms", "language": "zh", "body": "{name}请还款{amout}元"}, status=422)
    assert unknown["error_id"] == "template_refused" and unknown["details"]["variable"] == "amout"
    threat = await call(client, manager, "POST", "/api/templates", {
        "stage": "early", "channel": "sms", "language": "en",
        "body": "Pay {amount} today or we will have you arrested."}, status=422)
    assert threat["details"]["findings"][0]["category"] == "false_legal_threat"
    await call(client, agent, "POST", "/api/templates", {"stage": "early", "channel": "sms", "language": "zh",
                                                         "body": "x"}, status=403)

    saved = await call(client, manager, "POST", "/api/templates", {
        "stage": "early", "channel": "sms", "language": "zh",
        "body": "【{creditor}】{name}您好，尾号{account}已逾期{days_past_due}天，证件{id_number}。"}, status=201)
    assert saved["version"] == 1 and saved["created_by"] == "mia"
    listed = await call(client, manager, "GET", "/api/templates", channel="sms")
    assert {(t["stage"], t["language"]) for t in listed["templates"]} == {
        (s, lang) for s in ("reminder", "early", "late", "recovery") for lang in ("zh", "en")}
    versions = await call(client, manager, "GET", "/api/templates/versions", stage="early", channel="sms",
                          language="zh")
    assert [v["version"] for v in versions["versions"]] == [1, 0]
    assert (await call(client, manager, "GET", f"/api/templates/{saved['id']}"))["body"] == saved["body"]
    await call(client, manager, "GET", "/api/templates/999", status=404)
    page = await client.get("/templates", headers=bearer(manager), params={"lang": "zh"})
    assert page.status == 200 and "话术模板" in (html := await page.text()) and 'data-template="early/sms/zh"' in html
    assert "尾号{account}已逾期" in html

    rendered = await call(client, manager, "POST", "/api/templates/render", {"account": account, "channel": "sms"})
    assert rendered["body"] == "【Acme】王**您好，尾号8888已逾期45天，证件11************1234。"
    assert rendered["version"] == 1
    missing = await call(client, manager, "POST", "/api/templates/render", {"account": 424242, "channel": "sms"},
                         status=422)
    assert missing["details"]["field"] == "account"
