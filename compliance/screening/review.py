"""The review queue: save a call's screening, place the holds it demands, list flagged calls (filtered by
agent, category, campaign and whether they are decided), record decisions, score agents.

Every change is audited in the caller's transaction. A cease request puts a cease hold on the debtor at once
(the pre-dial gate then refuses every call to them); a reviewer who finds the request was not one releases
the hold with `dunline holds release` like any other, so that lifting a hold stays a deliberate act.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from cases.audit import record
from cases.models import Account, AfterCallState, Attempt, Hold, HoldKind, User, utcnow
from cases.models.screening import Decision, FindingStatus, ScreeningFinding, ScreeningReview
from compliance.holds import place_hold
from compliance.screening.categories import Category, HoldPolicy, Policies, Severity, Speaker
from compliance.screening.engine import CallScreening

EXCERPT_IN_NOTE = 200


class ScreeningError(ValueError):
    """A screening that cannot be recorded or reviewed as asked."""


@dataclass(frozen=True)
class FlaggedCall:
    attempt_id: int
    account_id: int
    agent_id: int | None
    severity: Severity
    categories: tuple[Category, ...]
    open_findings: int
    flagged_at: datetime  # when its oldest open finding was recorded (of any finding, in the decided view)
    campaign_id: int | None


@dataclass(frozen=True)
class QueueFilter:
    """Which flagged calls the queue shows; by default the work still to do."""

    agent_id: int | None = None
    category: Category | None = None
    campaign_id: int | None = None
    decided: bool | None = False  # False: calls with findings still open; True: every finding decided; None: all


@dataclass(frozen=True)
class AgentTally:
    agent_id: int | None
    category: Category
    confirmed: int
    needs_coaching: int


@dataclass(frozen=True)
class Scorecard:
    agent_id: int
    calls_screened: int
    tallies: tuple[AgentTally, ...]  # the agent's own findings reviewers upheld, by category
    decided: int  # the agent's own findings reviewers decided, upheld or not

    @property
    def upheld(self) -> int:
        return sum(t.confirmed + t.needs_coaching for t in self.tallies)

    @property
    def confirmed_rate(self) -> float | None:
        """Of the findings against the agent that reviewers decided, the share they upheld."""
        return self.upheld / self.decided if self.decided else None


def _active_hold(session: Session, policy: HoldPolicy, account: Account) -> Hold | None:
    scope = Hold.debtor_id == account.debtor_id if policy.scope == "debtor" else Hold.account_id == account.id
    now = utcnow()
    return session.execute(select(Hold).where(
        Hold.kind == HoldKind(policy.kind), scope, Hold.released_at.is_(None), Hold.starts_at <= now,
        (Hold.ends_at.is_(None)) | (Hold.ends_at > now)).limit(1)).scalar_one_or_none()


def _hold(session: Session, policy: HoldPolicy, account: Account, attempt_id: int, excerpt: str, actor: str) -> Hold:
    """The hold this finding demands: an active one already in force, or a new one."""
    existing = _active_hold(session, policy, account)
    if existing is not None:
        return existing
    scope = {"debtor_id": account.debtor_id} if policy.scope == "debtor" else {"account_id": account.id}
    return place_hold(session, kind=HoldKind(policy.kind), actor=actor, source="screening",
                      note=f"attempt {attempt_id}: {excerpt[:EXCERPT_IN_NOTE]}", **scope)


def record_screening(session: Session, *, attempt_id: int, screening: CallScreening, policies: Policies,
                     actor: str) -> list[ScreeningFinding]:
    """Save a call's findings for the review queue and place the holds their categories demand."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise ScreeningError(f"no attempt {attempt_id}")
    if session.execute(select(ScreeningFinding.id).where(ScreeningFinding.attempt_id == attempt_id).limit(1)).first():
        raise ScreeningError(f"attempt {attempt_id} already has screening findings")
    account = session.get(Account, attempt.account_id)
    assert account is not None  # attempts.account_id is a foreign key
    rows: list[ScreeningFinding] = []
    for finding in screening.findings:
        policy = policies[finding.category]
        hold = _hold(session, policy.hold, account, attempt_id, finding.excerpt, actor) if policy.hold else None
        rows.append(ScreeningFinding(
            attempt_id=attempt_id, account_id=account.id, agent_id=attempt.agent_id, category=finding.category,
            severity=finding.severity.label, severity_rank=int(finding.severity), speaker=finding.speaker.value,
            utterance_id=finding.utterance_id, start_s=finding.start_s, end_s=finding.end_s,
            span_start=finding.span_start, span_end=finding.span_end, excerpt=finding.excerpt, source=finding.source,
            ruleset=screening.ruleset, hold_id=hold.id if hold else None))
    session.add_all(rows)
    session.flush()
    record(session, actor=actor, action="screening.recorded", entity="attempt", entity_id=attempt_id, details={
        "findings": dict(Counter(r.category for r in rows)), "finding_ids": [r.id for r in rows],
        "holds": sorted({r.hold_id for r in rows if r.hold_id}), "ruleset": screening.ruleset})
    return rows


def _queue(where: QueueFilter) -> Select[tuple[int, int, int | None, int | None, int, int, datetime]]:
    """One row per call in the queue: attempt, account, agent, campaign, gravest rank, open findings, since.

    The undecided queue weighs a call by its open findings only (a confirmed threat does not keep a call on
    top once decided); the decided and whole views weigh all its findings."""
    finding = ScreeningFinding
    is_open = finding.status == FindingStatus.OPEN
    considered = [is_open] if where.decided is False else []
    conditions = list(considered)
    if where.agent_id is not None:
        conditions.append(finding.agent_id == where.agent_id)
    if where.campaign_id is not None:
        conditions.append(Attempt.campaign_id == where.campaign_id)
    if where.category is not None:
        conditions.append(finding.attempt_id.in_(
            select(finding.attempt_id).where(finding.category == where.category, *considered)))
    open_count = func.sum(case((is_open, 1), else_=0))
    query = (select(finding.attempt_id, func.min(finding.account_id), func.min(finding.agent_id),
                    func.min(Attempt.campaign_id), func.max(finding.severity_rank), open_count,
                    func.min(finding.created_at))
             .join(Attempt, Attempt.id == finding.attempt_id).where(*conditions).group_by(finding.attempt_id))
    return query.having(open_count == 0) if where.decided is True else query


def flagged_calls(session: Session, where: QueueFilter = QueueFilter(), *, limit: int = 100,
                  offset: int = 0) -> list[FlaggedCall]:
    """The review queue: calls with findings (by default those still open), gravest first, then longest waiting."""
    grouped = session.execute(_queue(where).order_by(func.max(ScreeningFinding.severity_rank).desc(),
                                                     func.min(ScreeningFinding.created_at), ScreeningFinding.attempt_id)
                              .limit(limit).offset(offset)).all()
    found = select(ScreeningFinding.attempt_id, ScreeningFinding.category).distinct().where(
        ScreeningFinding.attempt_id.in_([g[0] for g in grouped]))
    if where.decided is False:
        found = found.where(ScreeningFinding.status == FindingStatus.OPEN)
    categories: dict[int, set[Category]] = {}
    for attempt_id, category in session.execute(found):
        categories.setdefault(attempt_id, set()).add(category)
    return [FlaggedCall(attempt_id, account_id, agent_id, Severity(rank),
                        tuple(c for c in Category if c in categories.get(attempt_id, set())), count, since, campaign_id)
            for attempt_id, account_id, agent_id, campaign_id, rank, count, since in grouped]


def count_flagged_calls(session: Session, where: QueueFilter = QueueFilter()) -> int:
    """How many calls the queue holds under `where`, for paging."""
    return int(session.scalar(select(func.count()).select_from(_queue(where).subquery())) or 0)


def call_findings(session: Session, attempt_id: int) -> list[ScreeningFinding]:
    """A call's findings in audio order, for the reviewer to jump through."""
    return list(session.execute(select(ScreeningFinding).where(ScreeningFinding.attempt_id == attempt_id)
                                .order_by(ScreeningFinding.start_s, ScreeningFinding.id)).scalars())


def review_finding(session: Session, finding_id: int, *, reviewer: str, decision: Decision,
                   note: str | None = None) -> ScreeningReview:
    """Record a reviewer's decision; the finding's status follows the latest decision."""
    finding = session.get(ScreeningFinding, finding_id)
    if finding is None:
        raise ScreeningError(f"no finding {finding_id}")
    before = finding.status
    review = ScreeningReview(finding_id=finding_id, reviewer=reviewer, decision=decision, note=note)
    finding.status = FindingStatus(decision.value)
    session.add(review)
    session.flush()
    record(session, actor=reviewer, action="screening.reviewed", entity="screening_finding", entity_id=finding_id,
           details={"decision": decision.value, "previous_status": before.value, "note": note,
                    "attempt_id": finding.attempt_id, "category": finding.category})
    return review


def agent_report(session: Session, *, since: datetime | None = None, until: datetime | None = None) -> list[AgentTally]:
    """Per agent and category, the agent's own findings that reviewers confirmed or sent to coaching."""
    query = (select(ScreeningFinding.agent_id, ScreeningFinding.category, ScreeningFinding.status, func.count())
             .where(ScreeningFinding.speaker == Speaker.AGENT.value,
                    ScreeningFinding.status.in_([FindingStatus.CONFIRMED, FindingStatus.NEEDS_COACHING]))
             .group_by(ScreeningFinding.agent_id, ScreeningFinding.category, ScreeningFinding.status))
    if since is not None:
        query = query.where(ScreeningFinding.created_at >= since)
    if until is not None:
        query = query.where(ScreeningFinding.created_at < until)
    tallies: dict[tuple[int | None, Category], list[int]] = {}
    for agent_id, category, status, count in session.execute(query):
        counts = tallies.setdefault((agent_id, category), [0, 0])
        counts[0 if status is FindingStatus.CONFIRMED else 1] += count
    return [AgentTally(agent, Category(category), c, n) for (agent, category), (c, n) in
            sorted(tallies.items(), key=lambda item: (item[0][0] or 0, list(Category).index(item[0][1])))]


def scorecards(session: Session) -> list[Scorecard]:
    """Each agent's calls screened, their own findings by category that reviewers upheld, and how often a
    reviewer upheld a finding against them (their decided findings confirmed or sent to coaching)."""
    screened = dict(session.execute(select(Attempt.agent_id, func.count()).where(
        Attempt.aftercall == AfterCallState.DONE, Attempt.agent_id.is_not(None)).group_by(Attempt.agent_id)).all())
    decided = dict(session.execute(select(ScreeningFinding.agent_id, func.count()).where(
        ScreeningFinding.speaker == Speaker.AGENT.value, ScreeningFinding.status != FindingStatus.OPEN,
        ScreeningFinding.agent_id.is_not(None)).group_by(ScreeningFinding.agent_id)).all())
    tallies: dict[int, list[AgentTally]] = {}
    for tally in agent_report(session):
        if tally.agent_id is not None:
            tallies.setdefault(tally.agent_id, []).append(tally)
    return [Scorecard(agent_id, screened.get(agent_id, 0), tuple(tallies.get(agent_id, ())), decided.get(agent_id, 0))
            for agent_id in sorted({*screened, *decided, *tallies})]


def agent_names(session: Session, agent_ids: Iterable[int | None]) -> dict[int, str]:
    """The usernames of the agents findings carry (the agent who took the call), for a reviewer to read."""
    wanted = {agent_id for agent_id in agent_ids if agent_id is not None}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all() if wanted else []
    return {agent_id: username for agent_id, username in rows}
