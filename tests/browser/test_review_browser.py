"""The compliance reviewer in a real browser (issue 16): a call recorded, transcribed and screened through the
real pipeline on the server's own store; the reviewer signs in with TOTP, opens it from the queue, plays the
stereo recording (HTTP ranges), sees the highlighted transcript segment follow the audio, confirms a finding
(it lands in the case store), places and releases a hold, and every reviewer page is screenshot in zh and en;
an agent is refused the reviewer's pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cases.models import HoldKind, ScreeningFinding, ScreeningReview
from cases.models.screening import FindingStatus
from cases.models.holds import Hold
from compliance.screening import Screener
from tests.browser.conftest import Console, sign_in
from tests.console.test_review import seed_flagged_call

PASSWORD = "browser-test-password"
FOLLOW_MS = 5000


def current_segment(page: Any, start: float) -> None:
    """Wait until the transcript's highlighted segment is the one starting at `start`."""
    page.wait_for_function(
        "start => { const s = document.querySelector('#transcript li.current'); "
        "return s !== null && Number(s.dataset.start) === start; }", arg=start, timeout=FOLLOW_MS)


def test_a_reviewer_hears_a_flagged_call_follows_its_transcript_and_confirms_a_finding(
        console: Console, browser_page: Any, chromium: Any) -> None:
    attempt = seed_flagged_call(console.store, Screener.load(learned=False), console.data_dir / "recordings",
                                ref="A1", agent="amy")
    secret = console.add_user("rita", "compliance_reviewer", PASSWORD, totp=True)
    page = browser_page
    sign_in(page, "rita", PASSWORD, secret)
    assert page.url.split("?")[0].endswith("/review")

    page.goto("/review?lang=en")
    row = page.locator(f"#queue tr[data-attempt='{attempt}']")
    assert "False legal threat" in row.inner_text() and "amy" in row.inner_text()
    console.screenshot(page, "review-queue-en")
    row.locator("a").click()
    page.wait_for_selector("#transcript li.segment >> nth=2")
    assert page.locator("#transcript mark.flag").count() >= 2
    assert "Cease request" in page.inner_text("#transcript")

    # Play (muted: no gesture needed), then seek: the highlighted segment follows currentTime.
    page.evaluate("() => { const a = document.getElementById('call-audio'); a.muted = true; return a.play(); }")
    page.wait_for_function("() => document.getElementById('call-audio').currentTime > 0.3", timeout=FOLLOW_MS)
    current_segment(page, 0.5)
    for seconds, start in ((6.8, 6.0), (4.0, 3.5), (1.0, 0.5)):
        page.evaluate("t => { document.getElementById('call-audio').currentTime = t; }", seconds)
        current_segment(page, start)
    page.evaluate("() => document.getElementById('call-audio').pause()")
    console.screenshot(page, "review-call-en")

    threat = page.locator("#findings li.finding", has_text="False legal threat")
    threat.locator("input[value=confirm]").check()
    threat.locator("textarea[name=reason]").fill("a threat of arrest the agent had no ground for")
    threat.locator("button[type=submit]").click()
    threat.locator(".status-confirmed").wait_for(timeout=FOLLOW_MS)
    with console.store.reading() as session:
        finding = session.scalars(select(ScreeningFinding).where(ScreeningFinding.attempt_id == attempt,
                                                                 ScreeningFinding.category == "false_legal_threat")).one()
        review = session.scalars(select(ScreeningReview).where(ScreeningReview.finding_id == finding.id)).one()
    assert finding.status is FindingStatus.CONFIRMED and review.reviewer == "rita"
    assert review.note == "a threat of arrest the agent had no ground for"

    page.goto("/holds?lang=en")
    page.fill("#place-hold input[name=account]", "A1")
    page.select_option("#place-hold select[name=kind]", "dispute")
    page.fill("#place-hold input[name=note]", "disputed in writing")
    with page.expect_navigation():
        page.click("#place-hold button[type=submit]")
    placed = page.locator("#holds tr", has_text="disputed in writing")
    placed.locator("input[name=reason]").fill("resolved with the creditor")
    hold_id = int(placed.get_attribute("data-hold") or 0)
    with page.expect_navigation():
        placed.locator("button[type=submit]").click()
    with console.store.reading() as session:
        hold = session.get(Hold, hold_id)
        assert hold is not None and hold.kind is HoldKind.DISPUTE and hold.released_by == "rita"

    for lang in ("en", "zh"):
        for name, path in (("queue", "/review?state=all"), ("call", f"/review/calls/{attempt}"),
                           ("scorecards", "/review/scorecards"), ("receipt", f"/review/attempts/{attempt}/receipt"),
                           ("holds", "/holds?active=all")):
            response = page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
            assert response is not None and response.status == 200, path
            if name == "call":
                page.wait_for_selector("#transcript li.segment >> nth=2")
            console.screenshot(page, f"review-{name}-{lang}")
    assert "拨号凭据" in page.inner_text("body") or "暂停催收" in page.inner_text("h1")

    console.add_user("andy", "agent", PASSWORD)
    context = chromium.new_context(base_url=console.url)
    try:
        agent = context.new_page()
        sign_in(agent, "andy", PASSWORD)
        for path in ("/review", f"/review/calls/{attempt}", "/review/scorecards", "/holds"):
            response = agent.goto(path)
            assert response is not None and response.status == 403, path
    finally:
        context.close()
