"""The agent desk in a real browser (issue 16 acceptance): on a real `dunline serve` whose trunk is the PSTN
simulator and whose agent phone is an agent bot registered as the agent, the agent signs in, pauses and goes
ready again, a campaign's call is bridged to their phone, the right case pops (the debtor's name, markup in it
shown as text), a promise is recorded — read back on the page and landed in the case store with the agent as its
author —, the call ends into wrap-up with its timer, the disposition is given, the agent pauses with a reason
code, and another role's pages are refused to the agent. Screenshots: tests/out/desk-en.png, tests/out/desk-zh.png.
"""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from cases.models import Account, Attempt, AttemptOutcome, Debtor, Promise, Source, User
from tests.browser.conftest import Console, sign_in
from tests.campaigns.test_campaign_run import seed

AT = "2026-11-30T20:00:00+00:00"  # the campaigns' clock: noon in California, where the seeded debtors live
PASSWORD = "a long desk password 42"
WAIT_MS = 20_000
POP_MS = 45_000  # a simulated phone rings 4 to 20 s (as on the simulated floor), then detection listens


def post(console: Console, token: str, path: str, body: object = None) -> Any:
    request = urllib.request.Request(console.url + path, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def closed(console: Console, attempt_id: int) -> bool:
    with console.store.session() as session:
        attempt = session.get(Attempt, attempt_id)
        return attempt is not None and attempt.outcome is not AttemptOutcome.IN_FLIGHT


def logs(console: Console) -> str:
    """The tails of serve's, the simulator's and the agent bots' logs, for a failure to show."""
    return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-2500:]}"
                     for path in sorted(console.data_dir.glob("*.log")))


@pytest.mark.parametrize("console", [{"at": AT}], indirect=True)
def test_an_agent_goes_ready_gets_a_call_sees_the_case_and_records_a_promise(console: Console,
                                                                             browser_page: Any) -> None:
    seed(console.store)
    with console.store.session() as session:
        for debtor in session.scalars(select(Debtor)):  # a name that is markup must show as text
            debtor.full_name = f"<script>alert(1)</script>{debtor.full_name}"
    console.add_user("agent1", "agent", PASSWORD)
    console.add_user("mei", "campaign_manager", PASSWORD)
    with console.store.session() as session:
        agent_id = session.scalars(select(User.id).where(User.username == "agent1")).one()
    console.start_pstn(mix="people")
    console.start_agents(1)  # agent1's phone: registers, answers serve's call, says "ready" once
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))

    sign_in(page, "agent1", PASSWORD)
    page.goto("/desk?lang=en")
    expect(page.locator("#phone-state")).to_have_attribute("data-registered", "true", timeout=WAIT_MS)
    expect(page.locator("#leg-state")).to_have_attribute("data-leg", "idle", timeout=WAIT_MS)
    page.select_option("#pause-reason", "training")
    page.click("#go-pause")
    expect(page.locator("#agent-state")).to_have_attribute("data-state", "paused", timeout=WAIT_MS)
    page.click("#go-ready")
    expect(page.locator("#agent-state")).to_have_attribute("data-state", "ready", timeout=WAIT_MS)

    manager = console.token("mei")
    campaign = post(console, manager, "/api/campaigns", {"name": "desk", "segment": {"jurisdictions": ["US"]},
                                                         "dial_mode": "progressive", "agent_group": "collectors"})
    post(console, manager, f"/api/campaigns/{campaign['id']}/start")
    try:
        expect(page.locator("#case")).to_be_visible(timeout=POP_MS)
    except AssertionError as error:
        raise AssertionError(f"no case popped: {error}\n{logs(console)}") from None
    post(console, manager, f"/api/campaigns/{campaign['id']}/pause")  # one call is enough

    attempt_id = int((page.locator("#attempt-label").text_content() or "#0").lstrip("#"))
    with console.store.session() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None and attempt.conversation
        account = session.get(Account, attempt.account_id)
        assert account is not None
        debtor = session.get(Debtor, account.debtor_id)
        assert debtor is not None
        name, balance, recorded = debtor.full_name, account.balance, attempt.recording_path is not None
    expect(page.locator("#debtor-name")).to_have_text(name)
    assert name.startswith("<script>") and page.locator("#debtor-name script").count() == 0
    # US: the caller's identity and the mini-Miranda, and the recording notice on a recorded call.
    expect(page.locator("#must-say li")).to_have_count(3 if recorded else 2)
    expect(page.locator("#must-say")).to_contain_text("attempt to collect a debt")
    expect(page.locator("#accounts")).to_contain_text(f"USD {balance:.2f}")

    pay_by = datetime.now(timezone.utc).date() + timedelta(days=7)  # the console's clock is the wall clock
    page.fill("#promise-form input[name=amount]", "150")
    page.fill("#promise-form input[name=promised_for]", pay_by.isoformat())
    page.click("#promise-form button[type=submit]")
    expect(page.locator("#read-back")).to_contain_text(f"USD 150.00 by {pay_by.day} {pay_by:%B %Y}",
                                                       timeout=WAIT_MS)
    expect(page.locator("#promises")).to_contain_text("150.00")
    expect(page.locator("#read-back")).to_be_visible()  # still there once the case is shown again
    with console.store.session() as session:
        promise = session.scalars(select(Promise).where(Promise.attempt_id == attempt_id)).one()
        assert (promise.amount, promise.promised_for, promise.source, promise.created_by) == \
            (Decimal("150.00"), pay_by, Source.AGENT, agent_id)

    # The debtor hangs up: wrap-up, its timer running, and the disposition once the attempt is closed.
    expect(page.locator("#agent-state")).to_have_attribute("data-state", "wrap_up", timeout=WAIT_MS)
    expect(page.locator("#wrap")).to_be_visible()
    deadline = time.monotonic() + 10
    while not closed(console, attempt_id):
        assert time.monotonic() < deadline, "the attempt did not close"
        time.sleep(0.1)
    page.click("#dispositions button[data-code=promise_to_pay]")
    expect(page.locator("#attempts")).to_contain_text("Promise to pay", timeout=WAIT_MS)
    page.select_option("#pause-reason", "after_call_work")
    page.click("#go-pause")
    expect(page.locator("#agent-state")).to_have_attribute("data-state", "paused", timeout=WAIT_MS)
    expect(page.locator("#agent-reason")).to_have_text("(After-call work)")
    with console.store.session() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None and (attempt.disposition, attempt.agent_id) == ("promise_to_pay", agent_id)
    console.screenshot(page, "desk-en")

    page.goto("/desk?lang=zh")  # the case stays on screen in the other language
    expect(page.locator("#debtor-name")).to_have_text(name, timeout=WAIT_MS)
    expect(page.locator("h2").first).to_have_text("必须告知")
    console.screenshot(page, "desk-zh")
    assert dialogs == []  # no script from the data ran

    for other in ("/campaigns", "/review", "/holds"):  # a manager's and a reviewer's pages
        refused = page.goto(other)
        assert refused is not None and refused.status == 403, other
