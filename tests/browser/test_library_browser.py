"""The legal library and the access review in a real browser (issue 17): an agent searches the library in Chinese
and opens an entry (the navigation offers it to every role); a compliance reviewer opens the access review and its
CSV link. Screenshots tests/out/library-{zh,en}.png, library-entry-zh.png, access-review-en.png."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Console, sign_in

PASSWORD = "browser-test-password"


def test_an_agent_reads_the_library_and_a_reviewer_the_access_review(console: Console, browser_page: Any) -> None:
    secret = console.add_user("rita", "compliance_reviewer", PASSWORD, totp=True)
    console.add_user("amy", "agent", PASSWORD)
    page = browser_page
    sign_in(page, "amy", PASSWORD)
    page.goto("/library?lang=zh")
    assert page.locator("header a[href='/library']").inner_text() == "法律法规库"
    console.screenshot(page, "library-zh")
    page.fill("#library-search input[name=q]", "私人生活安宁")
    page.click("#library-search button")
    assert page.locator("#library-entries tbody tr").count() == 1
    page.click("#library-entries a[href='/library/cn.civil-code.1033']")
    assert "隐私权" in page.inner_text("h1") and "第一千零三十三条" in page.inner_text("#citation")
    console.screenshot(page, "library-entry-zh")
    page.goto("/library?lang=en&q=1006.14")
    assert page.locator("#library-entries tbody tr").count() == 2
    console.screenshot(page, "library-en")
    page.click("header form[action='/signout'] button")

    sign_in(page, "rita", PASSWORD, secret)
    page.goto("/review/access?lang=en")
    assert "Access review" in page.inner_text("h1")
    assert page.locator("#access-csv").get_attribute("href").startswith("/api/audit/access.csv")
    console.screenshot(page, "access-review-en")
