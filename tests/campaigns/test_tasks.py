"""Escalation tasks: the reminder strategy's task steps (dpd-7, dpd-30) open one task per case on its assigned
agent's queue (or its pool), once however often the scheduler runs or restarts; listed and closed over the real
API (an agent seeing and closing only their own) and from the CLI; opening and closing audited."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from campaigns import tasks
from campaigns.errors import NoSuchTask
from campaigns.messages import MessageService
from campaigns.reminders import ReminderService
from cases import Store
from cases.models import (AgentTask, AuditEntry, CaseAssignment, ReminderSent, ReminderStatus, Role, TaskStatus,
                          User)
from compliance.gate import ComplianceGate
from compliance.screening import Screener
from dunline.cli.main import app
from tests.campaigns.assignment_seed import NOW, add_case, add_user
from tests.campaigns.test_assignment_api import call, client  # noqa: F401 (the API client fixture)
from tests.console.conftest import bearer, mint_token
from tests.dunline.conftest import admin, fresh_install  # noqa: F401 (fixtures)

runner = CliRunner()


def assign(store: Store, account_id: int, agent_id: int | None, pool: str | None = None) -> None:
    with store.session() as session:
        session.add(CaseAssignment(account_id=account_id, agent_id=agent_id, pool=pool, rules_version="t",
                                   reason="rules", assigned_by="t", assigned_at=NOW - timedelta(days=2)))


def reminders(store: Store) -> ReminderService:
    """The scheduler with no message channel configured: its SMS and e-mail are deferred, its tasks opened."""
    return ReminderService(store=store, messages=MessageService(
        store=store, gate=ComplianceGate(store), screener=Screener.load(learned=False), clock=lambda: NOW))


def count(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(AgentTask)) or 0


async def test_a_past_due_step_opens_one_task_on_the_agents_queue_once(store: Store) -> None:
    amy = add_user(store, "amy")
    add_user(store, "bob")
    mine, pooled = add_case(store, "A-7", dpd=7), add_case(store, "P-7", dpd=7)
    add_case(store, "A-3", dpd=3)  # no step today: no task
    assign(store, mine, amy)
    assign(store, pooled, None, pool="late")

    run = await reminders(store).run(NOW)
    assert {(o.reminder.account_id, o.status) for o in run.outcomes if o.reminder.channel == "task"} == {
        (mine, ReminderStatus.SENT), (pooled, ReminderStatus.SENT)}
    [task] = tasks.tasks(store, agent="amy")
    assert (task.account_id, task.account_ref, task.rule, task.stage, task.agent, task.status) == (
        mine, "A-7", "dpd-7", "early", "amy", TaskStatus.OPEN)
    assert {(t.account_ref, t.agent, t.pool) for t in tasks.tasks(store)} == {("A-7", "amy", None),
                                                                               ("P-7", None, "late")}
    assert tasks.tasks(store, agent="bob") == []

    await reminders(store).run(NOW + timedelta(hours=3))  # a restart the same day
    with store.session() as session:  # a crash after opening, before recording: planned again, opened once
        session.execute(delete(ReminderSent).where(ReminderSent.channel == "task"))
    await reminders(store).run(NOW + timedelta(hours=4))
    assert count(store) == 2

    with pytest.raises(NoSuchTask):
        tasks.close(store, task.id, actor="bob", at=NOW, agent="bob")
    done = tasks.close(store, task.id, actor="amy", at=NOW + timedelta(hours=5), note="called, promised Friday")
    assert (done.status, done.closed_by, done.note) == (TaskStatus.DONE, "amy", "called, promised Friday")
    assert tasks.tasks(store, agent="amy") == [] and len(tasks.tasks(store, agent="amy", status=None)) == 1
    with store.session() as session:
        actions = [a for (a,) in session.execute(select(AuditEntry.action).where(AuditEntry.entity == "agent_task"))]
    assert sorted(actions) == ["task.close", "task.open", "task.open"]


async def test_an_agent_lists_and_closes_their_own_tasks_over_the_api(
        store: Store, client: TestClient) -> None:  # noqa: F811 (the API client fixture)
    amy = mint_token(store, Role.AGENT, username="amy", now=NOW)
    bob = mint_token(store, Role.AGENT, username="bob", now=NOW)
    boss = mint_token(store, Role.SUPERVISOR, username="boss", now=NOW)
    account = add_case(store, "A-30", dpd=30)
    with store.session() as session:
        amy_id = session.scalar(select(User.id).where(User.username == "amy"))
    assign(store, account, amy_id)
    await reminders(store).run(NOW)

    [task] = (await call(client, amy, "GET", "/api/tasks"))["tasks"]
    assert (task["account_ref"], task["rule"], task["agent"], task["status"]) == ("A-30", "dpd-30", "amy", "open")
    await call(client, amy, "GET", "/api/tasks", status=403, agent="bob")
    assert (await call(client, boss, "GET", "/api/tasks", agent="amy"))["tasks"] == [task]
    assert (await call(client, bob, "GET", "/api/tasks"))["tasks"] == []
    page = await client.get("/tasks", headers=bearer(amy), params={"lang": "en"})
    html = await page.text()
    assert page.status == 200 and "Tasks" in html and f'data-task="{task["id"]}"' in html and "dpd-30" in html
    bobs = await (await client.get("/tasks", headers=bearer(bob), params={"lang": "zh"})).text()
    assert "没有待办任务" in bobs and "data-task=" not in bobs
    refused = await call(client, bob, "POST", f"/api/tasks/{task['id']}/close", {}, status=404)
    assert refused["error_id"] == "no_task"
    done = await call(client, amy, "POST", f"/api/tasks/{task['id']}/close", {"note": "plan agreed"})
    assert (done["status"], done["closed_by"], done["note"]) == ("done", "amy", "plan agreed")
    assert (await call(client, amy, "GET", "/api/tasks"))["tasks"] == []
    closed = await client.get("/api/tasks", params={"status": "done"}, headers=bearer(amy))
    assert [t["id"] for t in (await closed.json())["tasks"]] == [task["id"]]
    assert (await client.get("/api/tasks", params={"status": "later"}, headers=bearer(amy))).status == 400


def test_tasks_listed_and_closed_from_the_cli(admin: str, fresh_install: Path) -> None:  # noqa: F811 (fixtures)
    store = Store(f"sqlite:///{fresh_install / 'var' / 'dunline.db'}")
    ian = add_user(store, "ian")
    assign(store, add_case(store, "C-7", dpd=7), ian)
    asyncio.run(reminders(store).run(NOW))
    [task] = tasks.tasks(store, agent="ian")

    listed = runner.invoke(app, ["tasks", "list", "--agent", "ian"])
    assert listed.exit_code == 0 and "C-7" in listed.output and "dpd-7" in listed.output, listed.output
    closed = runner.invoke(app, ["tasks", "close", str(task.id), "--note", "called back"])
    assert closed.exit_code == 0 and f"task {task.id} (C-7, dpd-7): done" in closed.output, closed.output
    assert "C-7" not in runner.invoke(app, ["tasks", "list", "--agent", "ian"]).output
    assert "done" in runner.invoke(app, ["tasks", "list", "--status", "any"]).output
    missing = runner.invoke(app, ["tasks", "close", "999999"])
    assert missing.exit_code != 0 and "no task 999999" in missing.output
