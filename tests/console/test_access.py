"""Machine access to the API: bearer tokens and the role matrix (issue 15, item 6).

The routes are read from the application's router, so a route added later cannot be forgotten here."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import event, select, update

from cases import Store
from cases.models import ApiToken, AuditEntry, Role, User
from console import tokens
from tests.campaigns.test_campaigns import seed
from tests.console.conftest import T0, StepClock, bearer, mint_token, token_id

ALL_ROLES = frozenset(Role)
CASE_READERS = frozenset({Role.ADMIN, Role.CAMPAIGN_MANAGER, Role.SUPERVISOR, Role.COMPLIANCE_REVIEWER})
CAMPAIGN_READERS = frozenset({Role.ADMIN, Role.CAMPAIGN_MANAGER, Role.SUPERVISOR})
CAMPAIGN_WRITERS = frozenset({Role.ADMIN, Role.CAMPAIGN_MANAGER})
# Issue 15's matrix, written out again on purpose: the table in console.access must say the same for these routes
# (the console's own routes are covered route by route in tests/console/test_route_matrix.py).
EXPECTED = {
    ("GET", "/api/cases"): CASE_READERS,
    ("GET", "/api/campaigns"): CAMPAIGN_READERS,
    ("GET", "/api/campaigns/{campaign}"): CAMPAIGN_READERS,
    ("POST", "/api/campaigns"): CAMPAIGN_WRITERS,
    ("POST", "/api/campaigns/{campaign}/{action}"): CAMPAIGN_WRITERS,
    ("POST", "/api/agents/{name}/state"): frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT}),
    ("GET", "/api/agents/{name}/events"): frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT}),
    ("GET", "/api/metrics"): frozenset({Role.ADMIN, Role.SUPERVISOR}),
}
OPEN = {("GET", "/api/openapi.yaml")}
BODY = {"name": "late", "agent_group": "collectors"}


def api_routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, path template) of every /api route but the open ones; HEAD rides along with GET."""
    found = []
    for route in app.router.routes():
        template = route.resource.canonical if route.resource else ""
        method = "GET" if route.method == "HEAD" else route.method
        if template.startswith("/api/") and (method, template) not in OPEN:
            found.append((route.method, template))
    return found


def concrete(template: str, name: str = "x") -> str:
    """The path with every parameter filled; `{name}` (an agent's desk) with `name`, so an allowed role acts on its
    own desk and the role table, not the own-desk rule, decides."""
    return re.sub(r"\{[^}]+\}", "x", template.replace("{name}", name))


async def _call(client: TestClient, method: str, template: str, token: str | None, name: str = "x") -> Any:
    return await client.request(method, concrete(template, name), headers=bearer(token) if token else None,
                                json=BODY if method == "POST" else None)


async def _unauthorised(response: Any, error_id: str) -> None:
    assert response.status == 401, (response.url, response.status)
    assert response.headers["WWW-Authenticate"].startswith("Bearer"), response.headers
    if response.method != "HEAD":
        body = await response.json()
        assert body["error_id"] == error_id, body
    if error_id == "invalid_token":
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_item_6_every_api_route_answers_401_without_a_token(anonymous: TestClient) -> None:
    routes = api_routes(anonymous.app)
    assert {("GET", "/api/cases"), ("HEAD", "/api/cases"), ("POST", "/api/campaigns/{campaign}/{action}")} \
        <= set(routes)  # the router was read: the loop below is not vacuous
    for method, template in routes:
        await _unauthorised(await _call(anonymous, method, template, None), "authentication_required")
    # Unknown API paths and methods: 401 before 404 / 405, so the anonymous learn nothing of the API's shape.
    for method, path in (("GET", "/api/no/such"), ("DELETE", "/api/cases"), ("GET", "/api")):
        await _unauthorised(await anonymous.request(method, path), "authentication_required")
    # Not a bearer token at all.
    await _unauthorised(await anonymous.get("/api/cases", headers={"Authorization": "Basic YTpi"}),
                        "authentication_required")
    # What stays open.
    assert (await anonymous.get("/api/openapi.yaml")).status == 200
    assert (await anonymous.get("/healthz")).status in (200, 503)
    assert (await anonymous.get("/no/such/page")).status == 404


async def test_item_6_unknown_wrong_revoked_expired_and_deactivated_tokens_answer_401(
        store: Store, clock: StepClock, anonymous: TestClient) -> None:
    good = mint_token(store, Role.ADMIN)
    good_id, secret = token_id(good), good.split("_", 2)[2]
    revoked = mint_token(store, Role.ADMIN, username="gone")
    expiring = mint_token(store, Role.ADMIN, username="brief", days=1)
    deactivated = mint_token(store, Role.ADMIN, username="left")
    with store.session() as session:
        tokens.revoke(session, token_id(revoked), actor="test", now=T0)
        session.execute(update(User).where(User.username == "left").values(active=False))
    assert (await anonymous.get("/api/cases", headers=bearer(expiring))).status == 200
    clock.advance(days=1)
    bad = [f"dl_{good_id + 100}_{secret}", f"dl_{good_id}_{secret[:-1]}{'y' if secret.endswith('x') else 'x'}", f"dl_{good_id}_", "dl_0_x",
           f"dl_{'9' * 30}_{secret}", f"xx_{token_id}_{secret}", good + "a" * 200, "", revoked, expiring,
           deactivated]
    for method, template in api_routes(anonymous.app):
        for token in bad:
            response = await anonymous.request(method, concrete(template), headers={"Authorization": f"Bearer {token}"})
            await _unauthorised(response, "invalid_token")
    assert (await anonymous.get("/api/cases", headers=bearer(good))).status == 200


async def test_item_6_revocation_and_deactivation_reach_a_cached_token_within_the_cache_ttl(
        store: Store, clock: StepClock, anonymous: TestClient) -> None:
    from console.auth import CACHE_TTL

    revoked, deactivated = mint_token(store, Role.ADMIN), mint_token(store, Role.SUPERVISOR)
    for token in (revoked, deactivated):
        assert (await anonymous.get("/api/cases", headers=bearer(token))).status == 200  # now cached
    with store.session() as session:
        tokens.revoke(session, token_id(revoked), actor="test", now=clock())
        session.execute(update(User).where(User.username == "supervisor").values(active=False))
    clock.advance(seconds=CACHE_TTL.total_seconds())
    for token in (revoked, deactivated):
        await _unauthorised(await anonymous.get("/api/cases", headers=bearer(token)), "invalid_token")


async def test_item_6_roles_decide_what_each_route_allows(store: Store, anonymous: TestClient) -> None:
    minted = {role: mint_token(store, role) for role in Role}
    routes = [(m, t) for m, t in api_routes(anonymous.app) if ("GET" if m == "HEAD" else m, t) in EXPECTED]
    assert {("GET" if m == "HEAD" else m, t) for m, t in routes} == set(EXPECTED)
    for method, template in routes:
        allowed = EXPECTED[("GET" if method == "HEAD" else method, template)]
        for role, token in minted.items():
            response = await _call(anonymous, method, template, token, name=role.value)
            if role in allowed:
                assert response.status not in (401, 403), (role, method, template, response.status)
            else:
                assert response.status == 403, (role, method, template, response.status)
                if method != "HEAD":
                    body = await response.json()
                    assert body["error_id"] == "forbidden" and body["details"]["role"] == role.value, body
    # The acceptance case in words: an agent's token on a manager's route.
    refused = await anonymous.post("/api/campaigns", json=BODY, headers=bearer(minted[Role.AGENT]))
    assert refused.status == 403
    assert (await anonymous.post("/api/campaigns", json={**BODY, "name": "two"},
                                 headers=bearer(minted[Role.CAMPAIGN_MANAGER]))).status == 201


def test_item_6_the_role_matrix_is_one_table_covering_every_api_route(anonymous: TestClient) -> None:
    from console.access import ACCESS, OPEN_ROUTES

    assert OPEN <= set(OPEN_ROUTES)
    assert {route: ACCESS[route] for route in EXPECTED} == EXPECTED
    for method, template in api_routes(anonymous.app):
        assert ("GET" if method == "HEAD" else method, template) in ACCESS


async def test_item_6_the_audit_actor_is_the_token_owner_not_a_header(store: Store, anonymous: TestClient) -> None:
    seed(store)  # a start needs a case to dial (issue 15 item 9)
    token = mint_token(store, Role.CAMPAIGN_MANAGER, username="mei")
    headers = {**bearer(token), "X-Dunline-User": "mallory"}
    created = await anonymous.post("/api/campaigns", json=BODY, headers=headers)
    assert created.status == 201
    assert (await anonymous.post("/api/campaigns/late/start", headers=headers)).status == 200
    with store.reading() as session:
        actors = list(session.scalars(select(AuditEntry.actor).where(AuditEntry.entity == "campaign")))
    assert actors and set(actors) == {"mei"}


async def test_item_6_token_use_is_written_at_most_once_a_minute(
        store: Store, clock: StepClock, anonymous: TestClient) -> None:
    token = mint_token(store, Role.ADMIN)
    writes: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)
    event.listen(store.engine, "before_cursor_execute", count)
    try:
        for step in (0, 1, 20, 40, 59, 66, 67, 90):  # seconds after T0; each past the cache TTL re-reads the row
            clock.now = T0 + timedelta(seconds=step)
            assert (await anonymous.get("/api/cases", headers=bearer(token))).status == 200
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len(writes) == 2, writes  # at T0 and T0+66 s, not one per request
    with store.reading() as session:
        last_used = session.scalar(select(ApiToken.last_used_at))
    assert last_used == T0 + timedelta(seconds=66)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_item_6_the_token_cache_is_bounded(store: Store, clock: StepClock) -> None:
    from console.auth import BearerTokens

    authenticator = BearerTokens(store=store, clock=clock, max_cached=2)
    minted = [mint_token(store, Role.ADMIN, username=f"u{n}") for n in range(5)]

    class Request:  # the one thing the authenticator reads of a request
        def __init__(self, token: str) -> None:
            self.headers = bearer(token)
    for token in minted:
        principal = await authenticator.authenticate(Request(token))  # type: ignore[arg-type]
        assert principal is not None and authenticator.cached <= 2


def test_item_6_the_openapi_document_states_the_matrix_and_the_401s() -> None:
    import yaml

    from console.access import ACCESS
    from console.app import OPENAPI

    document = yaml.safe_load(OPENAPI.read_text())
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for (method, template), roles in ACCESS.items():
        if not template.startswith("/api/"):
            continue  # a console page, not the API's
        operation = document["paths"][template][method.lower()]
        assert set(operation["x-roles"]) == {role.value for role in roles}, template
        assert {"401", "403"} <= set(operation["responses"]), template
    assert document["paths"]["/api/openapi.yaml"]["get"]["security"] == []
