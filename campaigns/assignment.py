"""Assignment against the case store: load the facts, run the rules (`campaigns.assignment_rules`), write the
changes, each audited.

`run` decides every open case (open, promised, on a plan) in one transaction. A case whose decision equals its
current assignment is left alone, so a second run writes nothing; a change ends the current row and writes the
next one with the rules' receipt, audited as `case.assigned` with who had it, who has it now and why
(`agent_absent` when the agent who held it is absent, idle or deactivated; `rules` otherwise). An absent agent's
cases thus go to the others of the team, by the same rules, on the next run.

Agent profiles (team, skills, languages, absence) are written here too (`set_agent`), audited.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from campaigns.assignment_rules import AgentFacts, Assignment, CaseFacts, RuleSet, assign, load_rules
from cases import Store
from cases.audit import AuditDraft, append, record
from cases.models import (
    Account,
    AccountStatus,
    Address,
    AgentProfile,
    Attempt,
    CaseAssignment,
    Debtor,
    Role,
    Team,
    User,
)

ASSIGNABLE = (AccountStatus.OPEN, AccountStatus.PROMISED, AccountStatus.ON_PLAN)
_ADVISORY_LOCK_KEY = 0x41535347  # "ASSG": one assignment run at a time on PostgreSQL


class AssignmentError(ValueError):
    """A request the assignment service refuses; the message names the agent, team or field."""


@dataclass(frozen=True)
class Change:
    account_id: int
    before: str | None  # the agent, or "pool:<name>", or None for a case never assigned
    after: str  # the agent, or "pool:<name>"
    rule: str | None
    reason: str


@dataclass
class RunReport:
    rules_version: str
    dry_run: bool
    cases: int = 0
    changes: list[Change] = field(default_factory=list)
    by_place: Counter[str] = field(default_factory=Counter)  # agent or "pool:<name>" -> cases after the run

    def json(self) -> dict[str, Any]:
        return {"rules_version": self.rules_version, "dry_run": self.dry_run, "cases": self.cases,
                "changed": len(self.changes), "unchanged": self.cases - len(self.changes),
                "by_place": dict(sorted(self.by_place.items())),
                "changes": [{"account_id": c.account_id, "before": c.before, "after": c.after, "rule": c.rule,
                             "reason": c.reason} for c in self.changes]}


def _place(agent: str | None, pool: str | None) -> str:
    return agent if agent is not None else f"pool:{pool}"


def case_facts(session: Session, now: datetime) -> list[CaseFacts]:
    """Every assignable case, by account id."""
    first_address = (select(Address.debtor_id, func.min(Address.id).label("id")).group_by(Address.debtor_id)
                     .subquery())
    region = dict(session.execute(select(Address.debtor_id, Address.region)
                                  .join(first_address, first_address.c.id == Address.id)).all())
    rows = session.execute(select(Account, Debtor.language).join(Debtor, Debtor.id == Account.debtor_id)
                           .where(Account.status.in_(ASSIGNABLE)).order_by(Account.id)).all()
    return [CaseFacts(account.id, account.days_past_due(now.date()), account.balance, language.value,
                      region.get(account.debtor_id), account.creditor, account.product.value, account.jurisdiction)
            for account, language in rows]


def agent_facts(session: Session, rules: RuleSet, now: datetime) -> list[AgentFacts]:
    """Every active agent with a profile: present unless marked absent or idle for the rules' inactive days
    (no attempt of theirs since then, counting from when the profile was made)."""
    last_call = dict(session.execute(select(Attempt.agent_id, func.max(Attempt.started_at))
                                     .where(Attempt.agent_id.is_not(None)).group_by(Attempt.agent_id)).all())
    load = dict(session.execute(select(CaseAssignment.agent_id, func.count())
                                .where(CaseAssignment.ended_at.is_(None), CaseAssignment.agent_id.is_not(None))
                                .group_by(CaseAssignment.agent_id)).all())
    rows = session.execute(select(User, AgentProfile, Team.name).join(AgentProfile, AgentProfile.user_id == User.id)
                           .outerjoin(Team, Team.id == AgentProfile.team_id)
                           .where(User.active, User.role == Role.AGENT).order_by(User.username)).all()
    since = now - timedelta(days=rules.inactive_days)
    facts = []
    for user, profile, team in rows:
        active_at = max(filter(None, (last_call.get(user.id), profile.created_at)))
        facts.append(AgentFacts(user.username, team, frozenset(profile.skills), frozenset(profile.languages),
                                present=not profile.absent and active_at >= since, load=load.get(user.id, 0)))
    return facts


def current_assignments(session: Session) -> dict[int, CaseAssignment]:
    return {row.account_id: row for row in session.scalars(select(CaseAssignment)
                                                            .where(CaseAssignment.ended_at.is_(None)))}


def run(store: Store, *, actor: str, now: datetime, dry_run: bool = False, rules: RuleSet | None = None) -> RunReport:
    """Assign every open case by the rules; with `dry_run` decide and report, but write nothing."""
    rules = rules or load_rules()
    with store.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
        report = _run(session, rules, actor=actor, now=now, dry_run=dry_run)
        if dry_run:
            session.rollback()
        return report


def _run(session: Session, rules: RuleSet, *, actor: str, now: datetime, dry_run: bool) -> RunReport:
    cases = case_facts(session, now)
    agents = agent_facts(session, rules, now)
    names: dict[int, str] = {user_id: name for user_id, name in session.execute(select(User.id, User.username))}
    ids = {name: user_id for user_id, name in names.items()}
    held = current_assignments(session)
    current = {account: names[row.agent_id] for account, row in held.items() if row.agent_id is not None}
    decisions = assign(rules, cases, agents, current)
    present = {a.name for a in agents if a.present}
    report = RunReport(rules.version, dry_run, cases=len(cases))
    drafts: list[AuditDraft] = []
    for decision in decisions:
        after = _place(decision.agent, decision.pool)
        report.by_place[after] += 1
        row = held.get(decision.account_id)
        before = None if row is None else _place(names.get(row.agent_id) if row.agent_id else None, row.pool)
        if row is not None and before == after and row.team == decision.team and row.rule == decision.rule:
            continue
        reason = "agent_absent" if row is not None and row.agent_id is not None and before not in present else "rules"
        report.changes.append(Change(decision.account_id, before, after, decision.rule, reason))
        if dry_run:
            continue
        if row is not None:
            row.ended_at = now
        session.add(_row(decision, rules, ids, actor=actor, now=now, reason=reason))
        drafts.append(AuditDraft(actor, "case.assigned", "account", decision.account_id,
                                 {"before": before, "after": after, "team": decision.team, "rule": decision.rule,
                                  "rules_version": rules.version, "reason": reason}))
    if drafts:
        session.flush()
        append(session, drafts)
    return report


def _row(decision: Assignment, rules: RuleSet, ids: dict[str, int], *, actor: str, now: datetime,
         reason: str) -> CaseAssignment:
    return CaseAssignment(account_id=decision.account_id, agent_id=ids[decision.agent] if decision.agent else None,
                          team=decision.team, pool=decision.pool, rule=decision.rule, rules_version=rules.version,
                          reason=reason, receipt=decision.receipt, assigned_by=actor, assigned_at=now)


def set_agent(store: Store, username: str, *, actor: str, now: datetime, team: str | None = None,
              skills: list[str] | None = None, languages: list[str] | None = None,
              absent: bool | None = None) -> dict[str, Any]:
    """Create or change an agent's profile (only what is given), audited; a team is created on first use.
    The profile as it now stands."""
    with store.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or user.role is not Role.AGENT:
            raise AssignmentError(f"{username!r} is not an agent (a user with the agent role)")
        profile = session.get(AgentProfile, user.id)
        if profile is None:
            profile = AgentProfile(user_id=user.id, skills=[], languages=[], absent=False, created_at=now)
            session.add(profile)
        changed: dict[str, Any] = {}
        if team is not None:
            found = session.scalar(select(Team).where(Team.name == team))
            if found is None:
                found = Team(name=team, created_at=now)
                session.add(found)
                session.flush()
            profile.team_id, changed["team"] = found.id, team
        if skills is not None:
            profile.skills = changed["skills"] = sorted(set(skills))
        if languages is not None:
            profile.languages = changed["languages"] = sorted(set(languages))
        if absent is not None:
            profile.absent = changed["absent"] = absent
        session.flush()
        record(session, actor=actor, action="agent.profile_changed", entity="user", entity_id=username, details=changed)
        return profile_json(session, profile, username)


def profile_json(session: Session, profile: AgentProfile, username: str) -> dict[str, Any]:
    team = session.get(Team, profile.team_id) if profile.team_id else None
    return {"agent": username, "team": team.name if team else None, "skills": list(profile.skills),
            "languages": list(profile.languages), "absent": profile.absent}


def assignments(store: Store, *, agent: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The current assignments (of one agent, or all), by account id."""
    with store.reading() as session:
        query = (select(CaseAssignment, Account.account_ref, User.username)
                 .join(Account, Account.id == CaseAssignment.account_id)
                 .outerjoin(User, User.id == CaseAssignment.agent_id)
                 .where(CaseAssignment.ended_at.is_(None)).order_by(CaseAssignment.account_id).limit(limit))
        if agent is not None:
            query = query.where(User.username == agent)
        return [{"account_id": row.account_id, "account_ref": ref, "agent": username, "team": row.team,
                 "pool": row.pool, "rule": row.rule, "rules_version": row.rules_version, "reason": row.reason,
                 "assigned_at": row.assigned_at.isoformat()} for row, ref, username in session.execute(query)]
