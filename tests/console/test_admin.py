"""The administrator's pages (issue 16): users and roles, SIP passwords, API tokens, rule packs, health —
through a real aiohttp server over a real store and Redis, signed in with a session and TOTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from cases import Store
from cases.models import Role, User
from console import build_app, totp
from console.admin import Installation, InstallationKey
from tests.conftest import REDIS_URL
from tests.console.conftest import StepClock, bearer
from tests.console.test_signin import PASSWORD, POLICY, SESSIONS, add_user, audited, csrf_token, sign_in

NEW_PASSWORD = "another good password"


@pytest.fixture
async def admin(store: Store, clock: StepClock, redis_prefix: str) -> AsyncIterator[TestClient]:
    """The console with an administrator signed in (with TOTP), and an agent `amy`."""
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=clock, session_policy=SESSIONS,
                    signin_policy=POLICY, secret_key=b"k" * 32, session_prefix=redis_prefix)
    app[InstallationKey] = Installation(sip_password=lambda name: f"sip-{name}" if name == "amy" else None,
                                        sip_server="127.0.0.1:5060")
    secret = add_user(store, "root", Role.ADMIN, totp_secret=True)
    assert secret is not None
    add_user(store, "amy", Role.AGENT, display_name="<script>alert(1)</script>")
    async with TestClient(TestServer(app)) as client:
        assert (await sign_in(client, "root", code=totp.code_at(secret, clock.now))).status == 303
        yield client
    await redis_client.aclose()


async def _post(client: TestClient, path: str, **fields: str) -> aiohttp.ClientResponse:
    page = await client.get("/admin")
    return await client.post(path, data={"csrf_token": csrf_token(await page.text()), **fields})


def _user(store: Store, name: str) -> User:
    with store.reading() as session:
        user = session.scalars(select(User).where(User.username == name)).one()
        session.expunge(user)
        return user


async def test_users_listed_with_names_as_text(admin: TestClient) -> None:
    page = await admin.get("/admin")
    html = await page.text()
    assert page.status == 200 and 'data-username="amy"' in html and 'data-username="root"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


async def test_add_change_role_reset_password_deactivate(store: Store, admin: TestClient,
                                                         clock: StepClock) -> None:
    added = await _post(admin, "/admin/users", username="bob", display_name="Bob", role="agent",
                        password=PASSWORD)
    assert added.status == 200 and _user(store, "bob").role is Role.AGENT
    duplicate = await _post(admin, "/admin/users", username="bob", display_name="Bob", role="agent")
    assert duplicate.status == 400 and "exists" in await duplicate.text()
    weak = await _post(admin, "/admin/users/bob/password", password="short")
    assert weak.status == 400
    assert (await _post(admin, "/admin/users/bob/role", role="supervisor")).status == 200
    assert _user(store, "bob").role is Role.SUPERVISOR
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as bobs:
        base = str(admin.make_url("")).rstrip("/")
        assert (await sign_in(bobs, "bob", base=base)).status == 303
        assert (await _post(admin, "/admin/users/bob/password", password=NEW_PASSWORD)).status == 200
        assert (await bobs.get(f"{base}/account")).status == 401  # a reset ends the user's sessions
        assert (await sign_in(bobs, "bob", PASSWORD, base=base)).status == 401
        assert (await sign_in(bobs, "bob", NEW_PASSWORD, base=base)).status == 303
        assert (await _post(admin, "/admin/users/bob/active", active="0")).status == 200
        assert (await bobs.get(f"{base}/account")).status == 401  # at once: the sessions were ended
    assert not _user(store, "bob").active
    refused = await _post(admin, "/admin/users/root/active", active="0")
    assert refused.status == 400 and _user(store, "root").active
    actions = {e.action for e in audited(store, "user.role_changed") + audited(store, "user.deactivated")
               + audited(store, "user.password_set")}
    assert actions == {"user.role_changed", "user.deactivated", "user.password_set"}
    assert {e.actor for e in audited(store, "user.deactivated")} == {"root"}


async def test_requiring_totp_sends_the_user_to_enrol(store: Store, admin: TestClient) -> None:
    assert (await _post(admin, "/admin/users/amy/totp", totp="require")).status == 200
    assert _user(store, "amy").totp_required
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as amys:
        signed = await sign_in(amys, "amy", base=str(admin.make_url("")).rstrip("/"))
        assert signed.status == 303 and signed.headers["Location"] == "/account"


async def test_sip_password_shown_once_on_request_and_audited(store: Store, admin: TestClient) -> None:
    page = await admin.get("/admin")
    assert "sip-amy" not in await page.text()
    shown = await _post(admin, "/admin/users/amy/sip-password")
    assert shown.status == 200 and "sip-amy" in await shown.text()
    assert [e.details["username"] for e in audited(store, "user.sip_password_shown")] == ["amy"]
    assert "sip-amy" not in await (await admin.get("/admin")).text()
    no_phone = await _post(admin, "/admin/users/root/sip-password")
    assert no_phone.status == 400


async def test_tokens_minted_once_listed_and_revoked(store: Store, admin: TestClient) -> None:
    minted = await _post(admin, "/admin/tokens", username="amy", days="30")
    html = await minted.text()
    found = re.search(r'id="minted-token">(dl_\d+_[^<]+)<', html)
    assert minted.status == 200 and found
    token = found.group(1)
    assert (await admin.get("/api/agents/amy/events", headers=bearer(token))).status not in (401, 403)
    listing = await (await admin.get("/admin/tokens")).text()
    assert token not in listing and "amy" in listing
    token_id = token.split("_")[1]
    assert (await _post(admin, f"/admin/tokens/{token_id}/revoke")).status == 200
    assert (await _post(admin, f"/admin/tokens/{token_id}/revoke")).status == 409
    assert audited(store, "api_token.minted") and audited(store, "api_token.revoked")


async def test_rule_packs_and_health(admin: TestClient) -> None:
    packs = await (await admin.get("/admin/rulepacks")).text()
    assert 'id="pack-CN"' in packs and "No collection calls between 22:00 and 08:00" in packs
    health = await admin.get("/admin/health?lang=en")
    text = await health.text()
    assert health.status == 200 and "Database" in text and "Redis" in text
    assert text.count('class="ok"') >= 2
