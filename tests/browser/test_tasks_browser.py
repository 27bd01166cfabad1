"""An agent's escalation tasks in a real browser (issue 18): the strategy's dpd-30 step opened a task on the
agent's case; the agent signs in, sees it on the tasks page (zh and en), closes it with a note, and the close
lands in the case store; another agent's page shows none of it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select

from cases.models import AgentTask, TaskStatus, User
from tests.browser.conftest import Console, sign_in
from tests.campaigns.assignment_seed import NOW, add_case
from tests.campaigns.test_tasks import assign, reminders

PASSWORD = "browser-test-password"


def test_an_agent_closes_an_escalation_task_from_the_tasks_page(console: Console, browser_page: Any) -> None:
    console.add_user("amy", "agent", PASSWORD)
    console.add_user("bob", "agent", PASSWORD)
    account = add_case(console.store, "A-30", dpd=30)
    with console.store.session() as session:
        amy = session.scalars(select(User.id).where(User.username == "amy")).one()
    assign(console.store, account, amy)
    with ThreadPoolExecutor(1) as pool:  # the scheduler's run, beside the loop Playwright's sync API holds
        pool.submit(lambda: asyncio.run(reminders(console.store).run(NOW))).result()
    with console.store.session() as session:
        task = session.scalars(select(AgentTask.id)).one()

    page = browser_page
    sign_in(page, "amy", PASSWORD)
    page.goto("/tasks?lang=zh")
    assert "催收任务" in page.inner_text("h1")
    console.screenshot(page, "tasks-zh")
    page.goto("/tasks?lang=en")
    row = page.locator(f"#tasks tr[data-task='{task}']")
    assert "A-30" in row.inner_text() and "dpd-30" in row.inner_text()
    assert page.locator("nav a[href='/tasks']").count() == 1
    console.screenshot(page, "tasks-en")
    row.locator("input[name=note]").fill("called, plan agreed")
    row.locator("button").click()
    page.wait_for_selector(f"#tasks tr[data-task='{task}']", state="detached")
    with console.store.session() as session:
        done = session.get_one(AgentTask, task)
        assert (done.status, done.closed_by, done.note) == (TaskStatus.DONE, "amy", "called, plan agreed")

    page.context.clear_cookies()
    sign_in(page, "bob", PASSWORD)
    page.goto("/tasks?lang=en")
    assert "No open tasks." in page.inner_text("#tasks") and page.locator("#tasks tr[data-task]").count() == 0
