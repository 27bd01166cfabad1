"""The route-by-role matrix over every route the router holds, pages and API alike (issue 16): 401 without a
session, 403 for each role `ACCESS` does not name, neither for each role it does. The routes are read from
the application's router, so a route added later is covered without a line here.

Sessions are made straight in the session store (the sign-in itself is tested in test_signin.py): a fresh
one for each request, since some routes end the session they are called with.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from cases import Store
from cases.models import Role, User
from console import build_app
from console.access import ACCESS, OPEN_ROUTES
from console.sessions import COOKIE, SessionsKey
from tests.conftest import REDIS_URL
from tests.console.conftest import StepClock

Route = tuple[str, str]


def routes(app: web.Application) -> list[Route]:
    """Every (method, template) the router serves but the open ones; HEAD kept apart from GET."""
    found = []
    for route in app.router.routes():
        template = route.resource.canonical if route.resource else ""
        if (("GET" if route.method == "HEAD" else route.method), template) not in OPEN_ROUTES:
            found.append((route.method, template))
    return found


def concrete(template: str, username: str) -> str:
    """Parameters filled: `{name}` with the caller's own name (an agent acts on their own desk), others 1."""
    return re.sub(r"\{[^}]+\}", "1", template.replace("{name}", username))


@pytest.fixture
async def matrix(store: Store, clock: StepClock, redis_prefix: str) -> AsyncIterator[TestClient]:
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=clock, session_prefix=redis_prefix)
    async with TestClient(TestServer(app)) as client:
        yield client
    await redis_client.aclose()


async def _request(client: TestClient, method: str, template: str, user: User | None) -> tuple[int, str]:
    client.session.cookie_jar.clear()
    headers: dict[str, str] = {}
    if user is not None:
        sessions = client.app[SessionsKey]
        session = await sessions.create(user.id, lang="en", enrol_only=False)
        headers = {"Cookie": f"{COOKIE}={sessions.cookie_value(session)}", "X-CSRF-Token": session.csrf_token}
    path = concrete(template, user.username if user is not None else "x")
    body = {} if method in ("POST", "PUT", "PATCH") else None
    response = await client.request(method, path, headers=headers, json=body, allow_redirects=False)
    return response.status, await response.text() if method != "HEAD" else ""


async def test_every_route_refuses_the_anonymous_and_the_roles_not_named(store: Store, matrix: TestClient) -> None:
    with store.session() as session:
        users = {role: User(username=f"{role.value}-1", display_name=role.value, role=role) for role in Role}
        session.add_all(users.values())
        session.flush()
        session.expunge_all()
    every = routes(matrix.app)
    assert {("GET", "/"), ("GET", "/account"), ("POST", "/signout"), ("GET", "/api/cases")} <= set(every)
    problems = []
    for method, template in every:
        status, text = await _request(matrix, method, template, None)
        if status != 401:
            problems.append(f"anonymous {method} {template}: {status}")
        elif not template.startswith("/api") and method != "HEAD" and 'action="/signin"' not in text:
            problems.append(f"anonymous {method} {template}: 401 without the sign-in form")
        allowed = ACCESS.get(("GET" if method == "HEAD" else method, template), frozenset())
        for role, user in users.items():
            status, _ = await _request(matrix, method, template, user)
            if role in allowed and status in (401, 403):
                problems.append(f"{role.value} {method} {template}: {status}, but ACCESS lets it in")
            if role not in allowed and status != 403:
                problems.append(f"{role.value} {method} {template}: {status}, but ACCESS keeps it out")
    assert not problems, "\n".join(problems)
