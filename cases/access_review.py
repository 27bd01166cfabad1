"""Access review: who viewed or unmasked which debtor, read back from the audit log, and the operators who viewed
far more cases than they called.

A view is an audit row whose action is in `VIEW_ACTIONS`; the row names an account (the agent desktop's case
pop), an attempt (a reviewer's call or recording) or a debtor (a subject-access export), and each is traced
to its debtor here. A CLI unmask names no single debtor (`entity` "cli"): it is listed, with its reason, but a
debtor filter cannot find it.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from cases.models import Account, Attempt, AuditEntry, Debtor, Role, User

VIEW_ACTIONS = ("case.viewed", "personal_data.viewed", "subject.exported")
# Roles whose work is calling: for them views should follow calls. A reviewer or an administrator views without
# calling by the nature of the work, so the ratio says nothing about them.
CALLING_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR})
DEFAULT_RATIO = 3.0  # flagged above this many cases viewed per case called
DEFAULT_MIN_VIEWS = 10  # ... once they viewed at least this many: a few views say nothing
CSV_FIELDS = ("seq", "at", "actor", "action", "what", "entity", "entity_id", "debtor_ref", "account_ref",
              "attempt_id", "unmasked")


@dataclass(frozen=True)
class AccessQuery:
    user: str | None = None
    debtor: str | None = None  # the debtor's reference (`Debtor.external_ref`)
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    limit: int | None = None


@dataclass(frozen=True)
class AccessRow:
    seq: int
    at: datetime
    actor: str
    action: str
    what: str  # how: the desk, a call, a recording, the CLI's command
    entity: str
    entity_id: str | None
    debtor_ref: str | None
    account_ref: str | None
    attempt_id: int | None
    unmasked: str

    def csv_row(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at.isoformat(), "actor": self.actor, "action": self.action,
                "what": self.what, "entity": self.entity, "entity_id": self.entity_id or "",
                "debtor_ref": self.debtor_ref or "", "account_ref": self.account_ref or "",
                "attempt_id": self.attempt_id or "", "unmasked": self.unmasked}


@dataclass(frozen=True)
class ViewTally:
    actor: str
    role: str | None  # None: the actor is no user (the CLI before the first user)
    cases_viewed: int
    cases_called: int
    flagged: bool

    @property
    def ratio(self) -> float | None:
        return self.cases_viewed / self.cases_called if self.cases_called else None


def _in_range(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    return [*([column >= since] if since else []), *([column < until] if until else [])]


def _debtor_scope(session: Session, ref: str) -> Any:
    """The audit rows naming the debtor, one of its accounts or one of their attempts."""
    debtor_id = session.scalar(select(Debtor.id).where(Debtor.external_ref == ref))
    if debtor_id is None:
        return AuditEntry.seq.is_(None)  # matches nothing
    accounts = select(cast(Account.id, String)).where(Account.debtor_id == debtor_id)
    attempts = (select(cast(Attempt.id, String))
                .join(Account, Account.id == Attempt.account_id).where(Account.debtor_id == debtor_id))
    return or_(and_(AuditEntry.entity == "debtor", AuditEntry.entity_id == str(debtor_id)),
               and_(AuditEntry.entity == "account", AuditEntry.entity_id.in_(accounts)),
               and_(AuditEntry.entity == "attempt", AuditEntry.entity_id.in_(attempts)))


def _ids(entries: Iterable[AuditEntry], entity: str) -> set[int]:
    return {int(e.entity_id) for e in entries if e.entity == entity and e.entity_id and e.entity_id.isdigit()}


def _subjects(session: Session, entries: list[AuditEntry]) -> tuple[dict[str, tuple[str | None, str | None, int | None]],
                                                                     dict[str, int | None]]:
    """(entity:id -> (debtor_ref, account_ref, attempt_id), entity:id -> account id) for the rows' subjects."""
    attempts = {row.id: row.account_id for row in session.execute(
        select(Attempt.id, Attempt.account_id).where(Attempt.id.in_(_ids(entries, "attempt"))))}
    account_ids = _ids(entries, "account") | set(attempts.values())
    accounts = {row.id: (row.external_ref, row.account_ref) for row in session.execute(
        select(Account.id, Account.account_ref, Debtor.external_ref).join(Debtor, Debtor.id == Account.debtor_id)
        .where(Account.id.in_(account_ids)))}
    debtors = {row.id: row.external_ref for row in session.execute(
        select(Debtor.id, Debtor.external_ref).where(Debtor.id.in_(_ids(entries, "debtor"))))}
    found: dict[str, tuple[str | None, str | None, int | None]] = {}
    cases: dict[str, int | None] = {}
    for account_id, (debtor_ref, account_ref) in accounts.items():
        found[f"account:{account_id}"] = (debtor_ref, account_ref, None)
        cases[f"account:{account_id}"] = account_id
    for attempt_id, account_id in attempts.items():
        debtor_ref, account_ref = accounts.get(account_id, (None, None))
        found[f"attempt:{attempt_id}"] = (debtor_ref, account_ref, attempt_id)
        cases[f"attempt:{attempt_id}"] = account_id
    for debtor_id, debtor_ref in debtors.items():
        found[f"debtor:{debtor_id}"] = (debtor_ref, None, None)
    return found, cases


def _views(session: Session, query: AccessQuery) -> list[AuditEntry]:
    statement = (select(AuditEntry).where(AuditEntry.action.in_(VIEW_ACTIONS),
                                          *_in_range(AuditEntry.at, query.since, query.until))
                 .order_by(AuditEntry.seq.desc()))
    if query.user:
        statement = statement.where(AuditEntry.actor == query.user)
    if query.debtor:
        statement = statement.where(_debtor_scope(session, query.debtor))
    if query.limit is not None:
        statement = statement.limit(query.limit)
    return list(session.scalars(statement))


def access_rows(session: Session, query: AccessQuery) -> list[AccessRow]:
    """The views the query asks for, newest first, each traced to its debtor."""
    entries = _views(session, query)
    subjects, _ = _subjects(session, entries)
    rows = []
    for entry in entries:
        debtor_ref, account_ref, attempt_id = subjects.get(f"{entry.entity}:{entry.entity_id}", (None, None, None))
        details = entry.details or {}
        what = str(details.get("via") or details.get("what") or "")
        unmasked = details.get("unmasked")
        rows.append(AccessRow(entry.seq, entry.at, entry.actor, entry.action, what, entry.entity, entry.entity_id,
                              debtor_ref, account_ref, attempt_id,
                              " ".join(map(str, unmasked)) if isinstance(unmasked, list) else ""))
    return rows


def count_views(session: Session, query: AccessQuery) -> int:
    statement = select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action.in_(VIEW_ACTIONS), *_in_range(AuditEntry.at, query.since, query.until))
    if query.user:
        statement = statement.where(AuditEntry.actor == query.user)
    if query.debtor:
        statement = statement.where(_debtor_scope(session, query.debtor))
    return int(session.scalar(statement) or 0)


def view_tallies(session: Session, *, since: datetime | None = None, until: datetime | None = None,
                 ratio: float = DEFAULT_RATIO, min_views: int = DEFAULT_MIN_VIEWS) -> list[ViewTally]:
    """Per actor who viewed cases in the range: distinct cases (accounts) viewed and called (attempts they took);
    flagged when a calling role viewed at least `min_views` cases and more than `ratio` times those it called.
    Most flagged and most viewed first."""
    entries = _views(session, AccessQuery(since=since, until=until))
    _, cases = _subjects(session, entries)
    viewed: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        account_id = cases.get(f"{entry.entity}:{entry.entity_id}")
        if account_id is not None:
            viewed[entry.actor].add(account_id)
    users = {row.username: (row.id, row.role) for row in session.execute(
        select(User.username, User.id, User.role).where(User.username.in_(viewed)))}
    called = {row[0]: row[1] for row in session.execute(
        select(Attempt.agent_id, func.count(func.distinct(Attempt.account_id)))
        .where(Attempt.agent_id.in_([user_id for user_id, _ in users.values()]),
               *_in_range(Attempt.started_at, since, until))
        .group_by(Attempt.agent_id))}
    tallies = []
    for actor, accounts in viewed.items():
        user_id, role = users.get(actor, (None, None))
        calls = called.get(user_id, 0) if user_id is not None else 0
        flagged = role in CALLING_ROLES and len(accounts) >= min_views and len(accounts) > ratio * calls
        tallies.append(ViewTally(actor, role.value if role else None, len(accounts), calls, flagged))
    return sorted(tallies, key=lambda t: (not t.flagged, -t.cases_viewed, t.actor))


def write_csv(rows: Iterable[AccessRow], handle: IO[str]) -> None:
    writer = csv.DictWriter(handle, fieldnames=list(CSV_FIELDS))
    writer.writeheader()
    writer.writerows(row.csv_row() for row in rows)
