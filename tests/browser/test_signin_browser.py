"""Sign-in in a real browser (issue 16): an administrator signs in with TOTP in Chromium against `dunline
serve`, sees each admin page in Chinese and English (screenshots tests/out/admin-<page>-<lang>.png), and an
agent is refused them."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Console, sign_in

PASSWORD = "browser-test-password"
ADMIN_PAGES = {"users": ("/admin", "用户与角色", "Users and roles"),
               "tokens": ("/admin/tokens", "生成令牌", "Mint a token"),
               "rulepacks": ("/admin/rulepacks", "依据", "Sources"),
               "health": ("/admin/health", "数据库", "Database")}


def test_admin_signs_in_with_totp_and_sees_the_admin_pages_in_both_languages(console: Console,
                                                                             browser_page: Any) -> None:
    secret = console.add_user("root", "admin", PASSWORD, totp=True)
    console.add_user("amy", "agent", PASSWORD, display_name="<script>alert(1)</script>")
    page = browser_page
    page.goto("/admin")
    assert page.locator("form#signin").is_visible()  # no session: the sign-in form
    console.screenshot(page, "signin-en")
    sign_in(page, "root", PASSWORD, secret)
    assert page.url.endswith("/admin")
    assert page.locator("tr[data-username=amy] .display-name").inner_text() == "<script>alert(1)</script>"
    for lang in ("zh", "en"):
        for name, (path, zh, en) in ADMIN_PAGES.items():
            page.goto(f"{path}?lang={lang}")
            assert (zh if lang == "zh" else en) in page.inner_text("main"), (name, lang)
            console.screenshot(page, f"admin-{name}-{lang}")
    page.goto("/admin")  # the language is kept without ?lang=
    assert "Users and roles" in page.inner_text("main")
    page.click("tr[data-username=amy] form[action$='/sip-password'] button")
    assert page.locator("#sip-password").is_visible()


def test_an_agent_is_refused_the_admin_pages(console: Console, browser_page: Any) -> None:
    console.add_user("amy", "agent", PASSWORD)
    page = browser_page
    sign_in(page, "amy", PASSWORD)
    for path, _, _ in ADMIN_PAGES.values():
        response = page.goto(path)
        assert response is not None and response.status == 403, path
    assert "Admin" not in page.inner_text("header")  # and the navigation does not offer them
