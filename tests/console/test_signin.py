"""Console sign-in (issue 16): passwords, TOTP, lockout with back-off, sessions in Redis (idle timeout, sign
out everywhere, deactivation), CSRF, the security headers and the language, through a real aiohttp server
over a real store (SQLite and PostgreSQL) and a real Redis, on an injected clock."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from cases import Store
from cases.models import AuditEntry, Role, User
from console import build_app, passwords, totp
from console.security import CSP
from console.sessions import COOKIE, Session, SessionPolicy, SessionsKey
from console.signin import SignInPolicy
from tests.conftest import REDIS_URL
from tests.console.conftest import T0, StepClock, bearer, mint_token

PASSWORD = "correct horse battery"
POLICY = SignInPolicy(max_failures=3, max_source_failures=8, block=timedelta(seconds=60))
SESSIONS = SessionPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=8))
FAILED_EN = "Wrong username, password or code"


def add_user(store: Store, name: str, role: Role, *, password: str = PASSWORD, totp_secret: bool = False,
             display_name: str | None = None) -> str | None:
    """A user with a password (and a TOTP secret, returned, when asked)."""
    with store.session() as session:
        user = User(username=name, display_name=display_name or name, role=role)
        session.add(user)
        session.flush()
        passwords.set_password(session, user, password, actor="test", now=T0)
        if totp_secret:
            user.totp_secret = totp.new_secret()
        return user.totp_secret


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def sign_in(client: TestClient | aiohttp.ClientSession, name: str, password: str = PASSWORD, code: str = "",
                  next_path: str = "/", base: str = "") -> aiohttp.ClientResponse:
    form = await client.get(f"{base}/signin")
    token = csrf_token(await form.text())
    return await client.post(f"{base}/signin", allow_redirects=False,
                             data={"username": name, "password": password, "code": code, "next": next_path,
                                   "csrf_token": token})


async def page_token(client: TestClient, path: str = "/account") -> str:
    response = await client.get(path)
    assert response.status == 200, (path, response.status)
    return csrf_token(await response.text())


def audited(store: Store, action: str) -> list[AuditEntry]:
    with store.reading() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


@pytest.fixture
async def browser(store: Store, clock: StepClock, redis_prefix: str) -> AsyncIterator[TestClient]:
    """The console as a browser meets it: no credentials but the cookies it is given."""
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=clock, session_policy=SESSIONS,
                    signin_policy=POLICY, secret_key=b"k" * 32, session_prefix=redis_prefix)
    async with TestClient(TestServer(app)) as client:
        yield client
    await redis_client.aclose()


async def test_sign_in_go_home_sign_out(store: Store, browser: TestClient) -> None:
    add_user(store, "amy", Role.AGENT)
    refused = await browser.get("/account")
    assert refused.status == 401 and 'action="/signin"' in (text := await refused.text())
    assert 'name="next" value="/account"' in text
    signed = await sign_in(browser, "amy", next_path="/account")
    assert signed.status == 303 and signed.headers["Location"] == "/account"
    cookie = signed.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]  # plain HTTP here
    assert (await browser.get("/account")).status == 200
    home = await browser.get("/", allow_redirects=False)
    assert home.status == 303 and home.headers["Location"] == "/desk"
    token = await page_token(browser)
    out = await browser.post("/signout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/signin"
    assert (await browser.get("/account")).status == 401
    assert [e.actor for e in audited(store, "signin.succeeded")] == ["amy"]
    assert [e.actor for e in audited(store, "signout")] == ["amy"]


async def test_failures_look_alike_and_are_audited(store: Store, browser: TestClient) -> None:
    add_user(store, "amy", Role.AGENT)
    wrong = await sign_in(browser, "amy", "not the password")
    nobody = await sign_in(browser, "nobody", PASSWORD)
    assert wrong.status == nobody.status == 401
    assert FAILED_EN in await wrong.text() and FAILED_EN in await nobody.text()
    assert COOKIE not in wrong.cookies and COOKIE not in nobody.cookies
    reasons = [(e.details["username"], e.details["reason"]) for e in audited(store, "signin.failed")]
    assert reasons == [("amy", "wrong_password_or_code"), ("nobody", "unknown_user")]
    assert all(PASSWORD not in str(e.details) for e in audited(store, "signin.failed"))


async def test_lockout_backs_off_and_a_success_forgets(store: Store, browser: TestClient, clock: StepClock) -> None:
    add_user(store, "amy", Role.AGENT)
    for _ in range(POLICY.max_failures):
        assert (await sign_in(browser, "amy", "wrong password!")).status == 401
    blocked = await sign_in(browser, "amy")  # the right password, but blocked: the same answer
    assert blocked.status == 401 and FAILED_EN in await blocked.text()
    clock.advance(seconds=61)
    assert (await sign_in(browser, "amy", "wrong password!")).status == 401  # one more: twice the block
    with store.reading() as session:
        user = session.scalars(select(User).where(User.username == "amy")).one()
        assert user.failed_signins == 4 and user.blocked_until == clock.now + timedelta(seconds=120)
    clock.advance(seconds=119)
    assert (await sign_in(browser, "amy")).status == 401
    clock.advance(seconds=2)
    assert (await sign_in(browser, "amy")).status == 303
    with store.reading() as session:
        user = session.scalars(select(User).where(User.username == "amy")).one()
        assert user.failed_signins == 0 and user.blocked_until is None
    reasons = [e.details["reason"] for e in audited(store, "signin.failed")]
    assert reasons.count("blocked") == 2


async def test_one_source_is_blocked_after_many_failures_whoever_it_names(store: Store, browser: TestClient,
                                                                          clock: StepClock) -> None:
    add_user(store, "amy", Role.AGENT)
    for n in range(POLICY.max_source_failures):
        assert (await sign_in(browser, f"guess{n}", "wrong password!")).status == 401
    assert (await sign_in(browser, "amy")).status == 429
    clock.advance(seconds=61)
    assert (await sign_in(browser, "amy")).status == 303


async def test_totp_required_enrolled_and_checked(store: Store, browser: TestClient, clock: StepClock) -> None:
    add_user(store, "root", Role.ADMIN)
    signed = await sign_in(browser, "root")
    assert signed.status == 303 and signed.headers["Location"] == "/account"  # must enrol first
    home = await browser.get("/", allow_redirects=False)
    assert home.status == 303 and home.headers["Location"] == "/account"
    api = await browser.get("/api/cases")
    assert api.status == 403 and (await api.json())["error_id"] == "totp_enrolment_required"
    started = await browser.post("/account/totp", data={"csrf_token": await page_token(browser)})
    page = await started.text()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert secret and f"secret={secret.group(1)}" in page  # the otpauth URI
    wrong = await browser.post("/account/totp/confirm", data={"csrf_token": csrf_token(page), "code": "000000"})
    assert wrong.status == 400
    code = totp.code_at(secret.group(1), clock.now)
    confirmed = await browser.post("/account/totp/confirm", data={"csrf_token": csrf_token(page), "code": code})
    assert confirmed.status == 200 and audited(store, "user.totp_enrolled")
    home = await browser.get("/", allow_redirects=False)
    assert home.headers["Location"] == "/admin"
    await browser.post("/signout", data={"csrf_token": await page_token(browser)})
    assert (await sign_in(browser, "root")).status == 401  # no code
    clock.advance(seconds=30)
    fresh = totp.code_at(secret.group(1), clock.now)
    assert (await sign_in(browser, "root", code=fresh)).status == 303
    await browser.post("/signout", data={"csrf_token": await page_token(browser)})
    assert (await sign_in(browser, "root", code=fresh)).status == 401  # a code is used once


async def test_csrf_less_posts_are_refused_bearer_tokens_exempt(store: Store, browser: TestClient) -> None:
    add_user(store, "boss", Role.CAMPAIGN_MANAGER)
    await sign_in(browser, "boss")
    page = await browser.post("/signout", data={}, allow_redirects=False)
    assert page.status == 403 and "text/html" in page.headers["Content-Type"]
    api = await browser.post("/api/campaigns", json={"name": "x"})
    assert api.status == 403 and (await api.json())["error_id"] == "csrf"
    forged = await browser.post("/api/campaigns", json={"name": "x"}, headers={"X-CSRF-Token": "forged ✓"})
    assert forged.status == 403
    token = await page_token(browser)
    with_token = await browser.post("/api/campaigns", json={"name": "x"}, headers={"X-CSRF-Token": token})
    assert with_token.status not in (401, 403)
    machine = await browser.post("/api/campaigns", json={"name": "y"},
                                 headers=bearer(mint_token(store, Role.CAMPAIGN_MANAGER, username="robot")))
    assert machine.status not in (401, 403)
    browser.session.cookie_jar.clear()
    form = await browser.get("/signin")
    assert form.status == 200
    browser.session.cookie_jar.clear()  # the form's token cookie gone: a cross-site sign-in attempt
    refused = await browser.post("/signin", data={"username": "boss", "password": PASSWORD,
                                                  "csrf_token": csrf_token(await form.text())}, allow_redirects=False)
    assert refused.status == 403


async def test_a_page_of_another_origin_cannot_open_a_socket_with_the_session(store: Store, browser: TestClient) -> None:
    """Cross-site WebSocket hijacking: a page on another port of the same host is "same-site", so the browser
    sends the cookie with its upgrade; the console refuses it by its Origin."""
    add_user(store, "sup", Role.SUPERVISOR)
    await sign_in(browser, "sup")
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    own = f"http://{browser.host}:{browser.port}"
    hijack = await browser.get("/api/agents/sup/events", headers={**upgrade, "Origin": "http://127.0.0.1:1"})
    assert hijack.status == 403 and (await hijack.json())["error_id"] == "csrf"
    ours = await browser.get("/api/agents/sup/events", headers={**upgrade, "Origin": own})
    assert ours.status not in (401, 403)


async def test_changing_the_password_wants_the_current_one_and_guessing_it_is_blocked(
        store: Store, browser: TestClient) -> None:
    """A session left open must not let its finder guess the password: wrong current passwords count as failed
    sign-ins do; at the limit every session of the user ends."""
    add_user(store, "amy", Role.AGENT)
    await sign_in(browser, "amy")
    for attempt in range(POLICY.max_failures - 1):
        token = await page_token(browser)
        wrong = await browser.post("/account/password", data={"current": f"guess {attempt}", "new": "a new long secret",
                                                              "repeat": "a new long secret", "csrf_token": token})
        assert wrong.status == 400 and "current password is wrong" in await wrong.text()
    token = await page_token(browser)
    last = await browser.post("/account/password", data={"current": "guess again", "new": "a new long secret",
                                                         "repeat": "a new long secret", "csrf_token": token})
    assert last.status == 401  # blocked and signed out
    assert (await browser.get("/account", allow_redirects=False)).status == 401
    assert len(audited(store, "password.change_failed")) == POLICY.max_failures
    blocked = await sign_in(browser, "amy")  # the right password, but the user is blocked for now
    assert blocked.status != 303
    with store.reading() as session:
        assert passwords.verify(session.scalar(select(User.password_hash).where(User.username == "amy")), PASSWORD)


async def test_idle_timeout_and_lifetime(store: Store, browser: TestClient, clock: StepClock) -> None:
    add_user(store, "amy", Role.AGENT)
    await sign_in(browser, "amy")
    clock.advance(minutes=29)
    assert (await browser.get("/account")).status == 200
    clock.advance(minutes=29)
    assert (await browser.get("/account")).status == 200  # each use restarts the idle time
    clock.advance(minutes=31)
    ended = await browser.get("/account")
    assert ended.status == 401
    await sign_in(browser, "amy")
    for _ in range(8 * 3 - 1):
        clock.advance(minutes=20)
        assert (await browser.get("/account")).status == 200
    clock.advance(minutes=20)
    assert (await browser.get("/account")).status == 401  # 8 hours after sign-in, however busy


async def test_sign_out_everywhere_and_deactivation(store: Store, browser: TestClient, clock: StepClock) -> None:
    add_user(store, "amy", Role.AGENT)
    add_user(store, "bob", Role.AGENT)
    await sign_in(browser, "amy")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as laptop:
        base = str(browser.make_url("")).rstrip("/")
        assert (await sign_in(laptop, "amy", base=base)).status == 303
        assert (await laptop.get(f"{base}/account")).status == 200
        everywhere = await browser.post("/account/signout-everywhere",
                                        data={"csrf_token": await page_token(browser)}, allow_redirects=False)
        assert everywhere.status == 303
        assert (await laptop.get(f"{base}/account")).status == 401
        assert (await browser.get("/account")).status == 401
        assert audited(store, "signout.everywhere")[0].details == {"sessions": 2}
        assert (await sign_in(laptop, "bob", base=base)).status == 303
        with store.session() as session:
            session.execute(update(User).where(User.username == "bob").values(active=False))
        clock.advance(seconds=6)  # past the user cache's time
        assert (await laptop.get(f"{base}/account")).status == 401
        assert (await sign_in(laptop, "bob", base=base)).status == 401


async def test_display_names_render_as_text_and_pages_carry_the_headers(store: Store, browser: TestClient) -> None:
    add_user(store, "amy", Role.AGENT, display_name="<script>alert(1)</script>")
    await sign_in(browser, "amy")
    page = await browser.get("/account")
    html = await page.text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert page.headers["Content-Security-Policy"] == CSP
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in html.replace('<script src="/static/console.js" defer></script>', "")  # no inline script
    script = await browser.get("/static/console.js")
    assert script.status == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert "window.dunline" in await script.text()
    assert (await browser.get("/static/..%2fapp.py")).status == 404


async def test_language_from_the_browser_then_the_switch_remembered(store: Store, browser: TestClient) -> None:
    add_user(store, "amy", Role.AGENT)
    chinese = await browser.get("/signin", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert "用户名" in await chinese.text()
    english = await browser.get("/signin", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Username" in await english.text()
    await sign_in(browser, "amy")
    assert "我的账户" in await (await browser.get("/account?lang=zh")).text()
    assert "我的账户" in await (await browser.get("/account")).text()  # kept in the session
    with store.reading() as session:
        assert session.scalars(select(User.language).where(User.username == "amy")).one() == "zh"
    await browser.post("/signout", data={"csrf_token": await page_token(browser)})
    await sign_in(browser, "amy")  # the next sign-in starts in the user's language
    assert "我的账户" in await (await browser.get("/account", headers={"Accept-Language": "en"})).text()


@pytest.mark.parametrize("asked, goes_to", [
    ("/campaigns/7?lang=zh", "/campaigns/7?lang=zh"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
    ("/\\evil.example", "/"), ("/signin?next=/x", "/"), ("/a\r\nSet-Cookie: x=1", "/"), ("", "/"), (None, "/")])
def test_after_signing_in_only_local_paths(asked: object, goes_to: str) -> None:
    from console.signin import safe_next

    assert safe_next(asked) == goes_to


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_redis_away_answers_503_not_an_internal_error(store: Store, clock: StepClock) -> None:
    add_user(store, "amy", Role.AGENT)
    dead = aioredis.from_url("unix:///tmp/dunline-no-such.sock")
    app = build_app(store=store, redis_client=dead, clock=clock, secret_key=b"k" * 32)
    async with TestClient(TestServer(app)) as client:
        assert (await sign_in(client, "amy")).status == 503
        forged = app[SessionsKey].cookie_value(Session("x", 1, "t", clock.now, clock.now))
        page = await client.get("/account", headers={"Cookie": f"{COOKIE}={forged}"})
        assert page.status == 503 and "text/html" in page.headers["Content-Type"]
        api = await client.get("/api/cases", headers={"Cookie": f"{COOKIE}={forged}"})
        assert api.status == 503 and (await api.json())["error_id"] == "unavailable"
    await dead.aclose()
