from pathlib import Path

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from cases import Store
from cases.demo_data import generate_cases, write_csv
from cases.importer import CaseImporter
from cases.models import Role
from console import build_app
from dunline.redis_server import EmbeddedRedis
from tests.campaigns.test_campaigns import seed
from tests.console.conftest import StepClock, bearer, mint_token


async def test_health_and_case_api(sqlite_store: Store, tmp_path: Path, embedded_redis: EmbeddedRedis) -> None:
    data = tmp_path / "c.csv"
    write_csv(data, generate_cases(40, seed=9))
    CaseImporter(sqlite_store, actor="t", default_region="CN").run(data)
    client_redis = aioredis.from_url(embedded_redis.url)
    headers = bearer(mint_token(sqlite_store, Role.SUPERVISOR))
    async with TestClient(TestServer(build_app(store=sqlite_store, redis_client=client_redis)),
                          headers=headers) as client:
        health = await client.get("/healthz")
        assert health.status == 200 and (await health.json())["checks"] == {"database": "ok", "redis": "ok"}

        response = await client.get("/api/cases", params={"limit": "100"})
        body = await response.json()
        assert response.status == 200 and body["total"] == 40 and len(body["cases"]) == 40
        assert all("****" in c["phone"] for c in body["cases"] if c["phone"])

        bad = await client.get("/api/cases", params={"dpd": "nonsense"})
        assert bad.status == 400 and (await bad.json())["error_id"] == "bad_segment"
    await client_redis.aclose()


async def test_health_reports_a_dead_redis(sqlite_store: Store) -> None:
    dead = aioredis.from_url("unix:///tmp/dunline-no-such.sock")
    async with TestClient(TestServer(build_app(store=sqlite_store, redis_client=dead))) as client:
        response = await client.get("/healthz")
        assert response.status == 503 and (await response.json())["checks"]["redis"].startswith("error")


async def test_campaign_api(sqlite_store: Store, embedded_redis: EmbeddedRedis) -> None:
    import yaml

    client_redis = aioredis.from_url(embedded_redis.url)
    headers = bearer(mint_token(sqlite_store, Role.CAMPAIGN_MANAGER, username="mei"))
    seed(sqlite_store)  # a start needs a case to dial on the API's clock (issue 15 item 9)
    async with TestClient(TestServer(build_app(store=sqlite_store, redis_client=client_redis, clock=StepClock())),
                          headers=headers) as client:
        created = await client.post("/api/campaigns", headers=headers, json={
            "name": "late", "segment": {"dpd": ["31-60"], "jurisdictions": ["CN"]}, "dial_mode": "predictive",
            "agent_group": "collectors", "schedule": {"start": "09:00", "end": "20:00", "zone": "Asia/Shanghai"}})
        assert created.status == 201
        campaign = await created.json()
        assert campaign["status"] == "draft" and campaign["segment"]["dpd"] == ["31-60"]
        assert campaign["schedule"]["zone"] == "Asia/Shanghai"
        bad = await client.post("/api/campaigns", json={"name": "x", "agent_group": "g",
                                                        "schedule": {"start": "20:00", "end": "09:00"}})
        assert bad.status == 400 and "bad schedule" in (await bad.json())["message"]
        started = await client.post(f"/api/campaigns/{campaign['id']}/start", headers=headers)
        assert started.status == 200 and (await started.json())["status"] == "running"
        shown = await (await client.get("/api/campaigns/late")).json()
        assert shown["status"] == "running" and shown["attempts"] == 0 and shown["abandon_rate"] == 0
        assert (await client.post("/api/campaigns/late/teleport")).status == 404
        again = await client.post("/api/campaigns", json={"name": "late", "agent_group": "x"})
        assert again.status == 409
        missing = await client.post("/api/campaigns", json={"dial_mode": "predictive"})
        assert missing.status == 400 and "'name'" in (await missing.json())["message"]
        finished = await client.post("/api/campaigns/late/finish")
        assert (await (await client.post("/api/campaigns/late/start")).json())["error_id"] == "bad_transition"
        assert finished.status == 200
        listed = await (await client.get("/api/campaigns")).json()
        assert [c["name"] for c in listed["campaigns"]] == ["late"]
        document = yaml.safe_load(await (await client.get("/api/openapi.yaml")).text())
        assert "/api/campaigns/{campaign}/{action}" in document["paths"]
    with sqlite_store.session() as session:
        from sqlalchemy import select

        from cases.models import AuditEntry
        actors = set(session.scalars(select(AuditEntry.actor).where(AuditEntry.entity == "campaign")))
        assert actors == {"mei"}  # the token's owner, for the requests that named nobody too
    await client_redis.aclose()


async def _refused(response, parameter: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    body = await response.json()
    assert response.status == 400, body
    assert body["error_id"] == "bad_parameter" and body["details"]["parameter"] == parameter, body
    return body  # type: ignore[no-any-return]


async def test_probe_15_case_list_parameters_are_bounded(api: TestClient) -> None:
    await _refused(await api.get("/api/cases", params={"limit": "-1"}), "limit")  # was: every case, cap bypassed
    await _refused(await api.get("/api/cases", params={"limit": "501"}), "limit")
    await _refused(await api.get("/api/cases", params={"limit": "ten"}), "limit")
    await _refused(await api.get("/api/cases", params={"offset": "99999999999999999999"}), "offset")  # was: 500
    await _refused(await api.get("/api/cases", params={"offset": "-3"}), "offset")
    for amount in ("sNaN", "NaN", "Infinity", "1e999999", "0.000001", "10000000000000"):  # sNaN was: 500
        await _refused(await api.get("/api/cases", params={"max_balance": amount}), "max_balance")
    await _refused(await api.get("/api/cases", params={"region": "x" * 65}), "region")
    await _refused(await api.get("/api/cases", params={"product": ",".join(["p"] * 51)}), "product")
    fine = await api.get("/api/cases", params={"limit": "500", "offset": "0", "min_balance": "0.5",
                                                "max_balance": "1000000", "region": "Guangdong"})
    assert fine.status == 200 and (await fine.json())["total"] == 0
