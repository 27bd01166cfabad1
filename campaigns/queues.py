"""Each agent's work queue: the cases assigned to them (`campaigns.assignment`), ordered by the one priority
function the hopper uses (`campaigns.priority`), each with its progress (`campaigns.progress`) derived from
its attempts, promises, payments and holds.

Preview dialling offers the queue through the campaign's own hopper (`preview_lead`): the best case of the
agent's queue that the campaign's segment holds and the gate allows now, else the best case nobody else holds,
so the hopper's ranking, number order and gate decide as for any other lead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from campaigns.hopper import RECENT_CONTACT, Hopper, Lead
from campaigns.priority import priority
from campaigns.progress import Event, Happened, Progress, replay
from cases import Store
from cases.masking import mask_name
from cases.models import (
    Account,
    AccountStatus,
    Attempt,
    CaseAssignment,
    Debtor,
    Hold,
    HoldKind,
    Payment,
    Promise,
    PromiseStatus,
    User,
)
from cases.segments import case_query

ESCALATING_HOLDS = (HoldKind.DISPUTE, HoldKind.LEGAL, HoldKind.BANKRUPTCY, HoldKind.DECEASED)
PAID_OFF = (AccountStatus.PAID, AccountStatus.SETTLED)


@dataclass(frozen=True)
class QueueItem:
    account_id: int
    account_ref: str
    creditor: str
    debtor: str  # masked: a queue is a list, not a call
    currency: str
    balance: Decimal
    days_past_due: int
    broken_promises: int
    contacted_recently: bool
    score: float
    progress: Progress
    assigned_at: datetime

    def json(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "account_ref": self.account_ref, "creditor": self.creditor,
                "debtor": self.debtor, "currency": self.currency, "balance": str(self.balance),
                "days_past_due": self.days_past_due, "broken_promises": self.broken_promises,
                "contacted_recently": self.contacted_recently, "priority": round(self.score, 2),
                "progress": self.progress.value, "assigned_at": self.assigned_at.isoformat()}


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def histories(session: Session, account_ids: Iterable[int], now: datetime) -> dict[int, list[Happened]]:
    """What happened to each account, as progress events."""
    ids = list(account_ids)
    found: dict[int, list[Happened]] = {i: [] for i in ids}
    for account_id, at in session.execute(select(Attempt.account_id, Attempt.started_at)
                                          .where(Attempt.account_id.in_(ids), Attempt.conversation)):
        found[account_id].append(Happened(at, Event.CONTACTED))
    for promise in session.scalars(select(Promise).where(Promise.account_id.in_(ids))):
        found[promise.account_id].append(Happened(promise.created_at, Event.PROMISED))
        if promise.status is PromiseStatus.BROKEN:  # broken once its day ended unpaid
            found[promise.account_id].append(Happened(_start(promise.promised_for) + timedelta(days=1),
                                                      Event.PROMISE_BROKEN))
    for account_id, day in session.execute(select(Payment.account_id, Payment.paid_on)
                                           .where(Payment.account_id.in_(ids))):
        found[account_id].append(Happened(_start(day), Event.PAID_PART))
    accounts = session.execute(select(Account.id, Account.debtor_id, Account.status).where(Account.id.in_(ids))).all()
    for account in accounts:
        if account.status in PAID_OFF:
            found[account.id].append(Happened(now, Event.PAID_OFF))
    debtors = {a.debtor_id: a.id for a in accounts}
    holds = session.execute(select(Hold.account_id, Hold.debtor_id, Hold.starts_at).where(
        Hold.kind.in_(ESCALATING_HOLDS), Hold.released_at.is_(None), Hold.starts_at <= now,
        or_(Hold.ends_at.is_(None), Hold.ends_at > now),
        or_(Hold.account_id.in_(ids), Hold.debtor_id.in_(list(debtors))))).all()
    for hold in holds:
        covered = [hold.account_id] if hold.account_id in found else [a.id for a in accounts
                                                                       if a.debtor_id == hold.debtor_id]
        for account_id in covered:
            found[account_id].append(Happened(hold.starts_at, Event.ESCALATED))
    return found


def queue(store: Store, agent: str, now: datetime, *, limit: int = 500) -> list[QueueItem]:
    """`agent`'s open cases, highest priority first (then by account id)."""
    with store.reading() as session:
        rows = session.execute(
            select(Account, Debtor.full_name, CaseAssignment.assigned_at)
            .join(CaseAssignment, CaseAssignment.account_id == Account.id)
            .join(User, User.id == CaseAssignment.agent_id).join(Debtor, Debtor.id == Account.debtor_id)
            .where(User.username == agent, CaseAssignment.ended_at.is_(None))).all()
        ids = [account.id for account, _, _ in rows]
        broken = dict(session.execute(select(Promise.account_id, func.count()).where(
            Promise.account_id.in_(ids), Promise.status == PromiseStatus.BROKEN).group_by(Promise.account_id)).all())
        recent = set(session.scalars(select(Attempt.account_id).where(
            Attempt.account_id.in_(ids), Attempt.started_at >= now - RECENT_CONTACT, Attempt.conversation)))
        happened = histories(session, ids, now)
    items = []
    for account, name, assigned_at in rows:
        days = account.days_past_due(now.date())
        items.append(QueueItem(account.id, account.account_ref, account.creditor, mask_name(name), account.currency,
                               account.balance, days, broken.get(account.id, 0), account.id in recent,
                               priority(days, account.balance, broken.get(account.id, 0), account.id in recent),
                               replay(happened[account.id]), assigned_at))
    return sorted(items, key=lambda item: (-item.score, item.account_id))[:limit]


def held_by_others(session: Session, agent: str) -> frozenset[int]:
    """Accounts another agent holds now."""
    return frozenset(session.scalars(
        select(CaseAssignment.account_id).join(User, User.id == CaseAssignment.agent_id)
        .where(CaseAssignment.ended_at.is_(None), User.username != agent)))


def preview_lead(hopper: Hopper, agent: str, now: datetime, *, exclude: frozenset[int]) -> Lead | None:
    """The lead a preview campaign offers `agent`: their own queue's first, then a case nobody else holds.
    `exclude`: accounts offered to others, resting after a skip, or in flight."""
    with hopper.store.reading() as session:
        mine = frozenset(session.scalars(
            select(CaseAssignment.account_id).join(User, User.id == CaseAssignment.agent_id)
            .where(CaseAssignment.ended_at.is_(None), User.username == agent)))
        others = held_by_others(session, agent)
        segment = frozenset(session.scalars(case_query(hopper.segment, now.date(), now))) if mine else frozenset()
    for leave_out in ([segment - mine] if mine else []) + [others]:
        leads = hopper.leads(now, 1, exclude=exclude | leave_out)
        if leads:
            return leads[0]
    return None
