"""Escalation tasks for agents (`cases.models.tasks`): opened by the reminder scheduler for the strategy's
`task` steps on the queue of the agent the case is assigned to (or its pool), listed per agent, closed when done.

Opening is idempotent: a task exists once per (account, rule, due date), so a restart or a second run the same
day opens nothing new. Opening and closing are audited, so the case history shows both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, aliased

from campaigns.errors import NoSuchTask
from campaigns.reminder_plan import Reminder
from cases import Store
from cases.audit import AuditDraft, append
from cases.models import Account, AgentTask, CaseAssignment, TaskStatus, User

ENTITY = "agent_task"


@dataclass(frozen=True)
class TaskView:
    id: int
    account_id: int
    account_ref: str
    rule: str
    due_date: date
    stage: str
    agent: str | None
    pool: str | None
    status: TaskStatus
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    note: str | None

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "account_id": self.account_id, "account_ref": self.account_ref, "rule": self.rule,
                "due_date": self.due_date.isoformat(), "stage": self.stage, "agent": self.agent, "pool": self.pool,
                "status": self.status.value, "created_at": self.created_at.isoformat(),
                "closed_at": self.closed_at.isoformat() if self.closed_at else None, "closed_by": self.closed_by,
                "note": self.note}


def open_tasks(session: Session, reminders: Sequence[Reminder], at: datetime, *, actor: str) -> list[int]:
    """A task for each reminder not yet made one, on its case's current agent (or pool); returns the new ids."""
    keys = [(r.account_id, r.rule, r.due_date) for r in reminders]
    if not keys:
        return []
    existing = {tuple(row) for row in session.execute(select(AgentTask.account_id, AgentTask.rule, AgentTask.due_date)
                                                      .where(tuple_(AgentTask.account_id, AgentTask.rule,
                                                                    AgentTask.due_date).in_(keys)))}
    holders = {row.account_id: (row.agent_id, row.pool or row.team) for row in session.execute(
        select(CaseAssignment.account_id, CaseAssignment.agent_id, CaseAssignment.pool, CaseAssignment.team)
        .where(CaseAssignment.ended_at.is_(None), CaseAssignment.account_id.in_({k[0] for k in keys})))}
    new = []
    for reminder in reminders:
        if (reminder.account_id, reminder.rule, reminder.due_date) in existing:
            continue
        agent_id, pool = holders.get(reminder.account_id, (None, None))
        new.append(AgentTask(account_id=reminder.account_id, rule=reminder.rule, due_date=reminder.due_date,
                             stage=reminder.stage, agent_id=agent_id, pool=None if agent_id else pool,
                             status=TaskStatus.OPEN, created_at=at))
    session.add_all(new)
    session.flush()
    append(session, [AuditDraft(actor, "task.open", ENTITY, task.id, {"account_id": task.account_id,
                                                                      "rule": task.rule, "agent_id": task.agent_id})
                     for task in new])
    return [task.id for task in new]


def tasks(store: Store, *, agent: str | None = None, status: TaskStatus | None = TaskStatus.OPEN,
          limit: int = 200) -> list[TaskView]:
    """Tasks, oldest first: one agent's (by user name) or everyone's, of one status or any."""
    owner = aliased(User)
    query = (select(AgentTask, Account.account_ref, owner.username).join(Account, Account.id == AgentTask.account_id)
             .outerjoin(owner, owner.id == AgentTask.agent_id).order_by(AgentTask.created_at, AgentTask.id).limit(limit))
    if agent is not None:
        query = query.where(owner.username == agent)
    if status is not None:
        query = query.where(AgentTask.status == status)
    with store.reading() as session:
        return [_view(task, ref, username) for task, ref, username in session.execute(query)]


def close(store: Store, task_id: int, *, actor: str, at: datetime, note: str | None = None,
          agent: str | None = None) -> TaskView:
    """Close an open task as done (audited); `agent` set: only a task on that agent's queue."""
    with store.session() as session:
        found = session.execute(select(AgentTask, Account.account_ref, User.username)
                                .join(Account, Account.id == AgentTask.account_id)
                                .outerjoin(User, User.id == AgentTask.agent_id).where(AgentTask.id == task_id)).first()
        if found is None or (agent is not None and found[2] != agent):
            raise NoSuchTask(f"no task {task_id}" + (f" on {agent}'s queue" if agent else ""), task=task_id)
        task, ref, username = found
        if task.status is TaskStatus.OPEN:
            task.status, task.closed_at, task.closed_by, task.note = TaskStatus.DONE, at, actor, note
            append(session, [AuditDraft(actor, "task.close", ENTITY, task.id, {"account_id": task.account_id,
                                                                               "rule": task.rule})])
        return _view(task, ref, username)


def _view(task: AgentTask, account_ref: str, agent: str | None) -> TaskView:
    return TaskView(task.id, task.account_id, account_ref, task.rule, task.due_date, task.stage, agent, task.pool,
                    task.status, task.created_at, task.closed_at, task.closed_by, task.note)
