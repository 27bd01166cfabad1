"""The campaign manager's and supervisor's pages in a real browser (issue 16 acceptance), on a real `dunline serve`
whose trunk is the PSTN simulator and whose agents' phones are agent bots: a manager signs in, builds a segment
(its live count shown), creates a campaign and starts it, and watches the wallboard's dial count move; a
supervisor force-pauses an agent from the wallboard; an agent is refused the campaign pages.
Screenshots: tests/out/manager-<page>-<lang>.png for the campaigns list, the builder, a campaign and the wallboard."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from cases.models import AuditEntry, Role, User
from console.passwords import set_password
from dialer.simulate.pstn import Persona, Script
from tests.campaigns.test_campaign_run import NUMBERS
from tests.dunline.test_server import agents_up, live_floor

playwright = pytest.importorskip("playwright.async_api")

CHROMIUM = "/usr/bin/chromium"
OUT = Path(__file__).resolve().parents[1] / "out"
PASSWORD = "a long floor password 42"
TALKERS = {number: Script(Persona.PERSON, ring_s=0.5, talk_s=4.0) for number in NUMBERS}
WAIT_MS = 20_000


@pytest.fixture
def chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium)")
    return CHROMIUM


def _watch(page: Any, problems: list[str]) -> Any:
    """`page`, its script errors and CSP violations collected in `problems`."""
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    return page


async def _signed_in(browser: Any, base: str, name: str, path: str, problems: list[str]) -> Any:
    """A page of a new browser context, signed in as `name` through the form `path` answers with."""
    context = await browser.new_context(locale="en-US", viewport={"width": 1360, "height": 1000}, base_url=base)
    page = _watch(await context.new_page(), problems)
    await page.goto(path)
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORD)
    async with page.expect_navigation():
        await page.click("#signin button[type=submit]")
    return page


async def _shoot(page: Any, name: str) -> None:
    await page.screenshot(path=str(OUT / f"manager-{name}.png"), full_page=True)


async def _dials(page: Any, campaign_id: int) -> int:
    cell = page.locator(f'#board-campaigns tr[data-campaign="{campaign_id}"] [data-figure="dials_today"]')
    return int(await cell.text_content() or "0") if await cell.count() else 0


async def test_a_manager_builds_a_segment_starts_a_campaign_and_watches_the_wallboard(
        tmp_path: Path, chromium: str) -> None:
    expect = playwright.expect
    OUT.mkdir(exist_ok=True)
    async with live_floor(tmp_path, TALKERS, agents=2) as floor, playwright.async_playwright() as driver, \
            aiohttp.ClientSession() as http:
        now = datetime.now(timezone.utc)
        with floor.store.session() as session:
            session.add(User(username="sue", display_name="Sue", role=Role.SUPERVISOR))
            session.flush()
            for user in session.scalars(select(User).where(User.username.in_(["manager", "agent1", "sue"]))):
                set_password(session, user, PASSWORD, actor="test", now=now)
        await agents_up(http, floor, ["agent1", "agent2"])
        browser = await driver.chromium.launch(executable_path=chromium)
        problems: list[str] = []
        try:
            builder = await _signed_in(browser, floor.api, "manager", "/campaigns/new?lang=en", problems)
            count = builder.locator("#segment-count")
            await expect(count).to_have_attribute("data-cases", "5", timeout=WAIT_MS)  # every case, before a filter
            await builder.fill("input[name=min_balance]", "800")
            await expect(count).to_have_attribute("data-cases", "2", timeout=WAIT_MS)  # 800 and 900
            await builder.fill("input[name=min_balance]", "")
            await builder.check("input[name=jurisdictions][value=US]")
            await expect(count).to_have_attribute("data-cases", "5", timeout=WAIT_MS)
            await expect(count).to_have_text("5 cases, 5 of them dialable")
            await builder.fill("input[name=name]", "floor test")
            await builder.select_option("select[name=dial_mode]", "progressive")
            await _shoot(builder, "new-en")
            async with builder.expect_navigation():
                await builder.click("#create")
            campaign_id = int(builder.url.rstrip("/").split("/")[-1])
            await expect(builder.locator("h1")).to_contain_text("floor test")
            await _shoot(builder, "campaign-en")

            board = _watch(await builder.context.new_page(), problems)
            await board.goto("/wallboard?lang=en")
            await expect(board.locator("#link-state")).to_have_class("pill ok", timeout=WAIT_MS)
            assert await _dials(board, campaign_id) == 0  # a draft is not on the board
            async with builder.expect_navigation():
                await builder.click('button[data-action="start"]')
            await expect(builder.locator("h1 .status")).to_have_text("running")
            row = board.locator(f'#board-campaigns tr[data-campaign="{campaign_id}"]')
            await expect(row).to_be_visible(timeout=WAIT_MS)
            await board.wait_for_function(
                f"""() => Number(document.querySelector('#board-campaigns tr[data-campaign="{campaign_id}"]'
                     + ' [data-figure="dials_today"]').textContent) >= 2""", timeout=WAIT_MS)
            assert await _dials(board, campaign_id) >= 2  # the count moved with the campaign's dials
            await expect(board.locator('#floor [data-figure="dials_today"]')).not_to_have_text("0")
            await expect(board.locator("#board-agents tbody tr")).to_have_count(2)
            await _shoot(board, "wallboard-en")
            await builder.goto("/campaigns?lang=en")
            listed = builder.locator(f'#campaigns tr[data-campaign="{campaign_id}"] .status')
            await expect(listed).to_have_text("running")
            await _shoot(builder, "campaigns-en")
            assert await board.locator("[data-force]").count() == 0  # a manager watches; supervisors act
            for path, name in (("/campaigns", "campaigns"), ("/campaigns/new", "new"),
                               (f"/campaigns/{campaign_id}", "campaign"), ("/wallboard", "wallboard")):
                await builder.goto(f"{path}?lang=zh")
                if name == "new":
                    await expect(builder.locator("#segment-count")).to_have_attribute("data-cases", "5")
                if name == "wallboard":
                    await expect(builder.locator("#link-state")).to_have_class("pill ok", timeout=WAIT_MS)
                    await expect(builder.locator("#board-agents tbody tr")).to_have_count(2)
                await expect(builder.locator("html")).to_have_attribute("lang", "zh-CN")
                await _shoot(builder, f"{name}-zh")

            supervisor = await _signed_in(browser, floor.api, "sue", "/wallboard?lang=en", problems)
            agent_row = supervisor.locator('#board-agents tr[data-agent="agent2"]')
            await expect(agent_row).to_be_visible(timeout=WAIT_MS)
            await agent_row.locator("input[data-reason-for]").fill("coaching")
            await agent_row.locator('button[data-force="pause"]').click()
            await expect(supervisor.locator("#agent-message")).to_contain_text("agent2", timeout=WAIT_MS)
            await expect(agent_row.locator("td").nth(2)).to_have_text("coaching", timeout=WAIT_MS)  # paused, once free
            await expect(agent_row.locator("td").nth(1)).to_have_text("paused")
            with floor.store.reading() as session:
                audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "agent.force_pause")).all()
            assert [(entry.actor, entry.entity_id) for entry in audited] == [("sue", "agent2")]

            agent = await _signed_in(browser, floor.api, "agent1", "/signin", problems)
            refused = await agent.goto("/campaigns")
            assert refused is not None and refused.status == 403
            assert (await agent.goto("/wallboard")).status == 403
            assert not problems, problems  # no script error, no CSP violation on any page
        finally:
            await browser.close()
