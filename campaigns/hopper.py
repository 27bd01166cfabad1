"""The hopper: which case to dial next, on which number, and the claim that makes the dial lawful.

Cases of the campaign's segment are ranked by a priority score — days past due times balance, raised for
broken promises, lowered for a recent contact — or by the campaign's strategy (a `Ranking` from
campaigns.analytics: propensity to pay, best time, champion/challenger), and each case's numbers are tried
in order: the debtor's mobile, home, work, then other numbers of the debtor, and reference contacts last
(only where the rule pack allows, which the gate decides). The gate is asked for every candidate; the first
number it allows is the lead. `claim` asks again and writes the in-flight attempt with its receipt (and the
ranking's arm for the case, so reports can compare strategies) in one locked transaction, so a lead that
went stale between the two (another process or node dialled it) is simply not dialled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns import attempts
from campaigns.priority import priority
from cases import Store
from cases.models import (
    Account,
    Attempt,
    AttemptOutcome,
    Channel,
    Phone,
    PhoneKind,
    PhoneOwner,
    PhoneStatus,
    Promise,
    PromiseStatus,
)
from cases.segments import Segment, case_query
from compliance import CampaignFacts, ComplianceGate

PHONE_ORDER = {PhoneKind.MOBILE: 0, PhoneKind.HOME: 1, PhoneKind.WORK: 2}
RECENT_CONTACT = timedelta(days=3)
# Cases asked of the gate at once: a batch's facts take the same few queries for one case or a hundred,
# while a larger batch only wastes decisions when a few leads are wanted.
GATE_BATCH = 100
# How long after its last attempt a case comes back to the hopper, by that attempt's outcome. The gate's
# caps and cool-downs are the law; these are the campaign's own good sense (a busy line may free up in
# minutes, an unanswered phone is better tried at another time of day).
RECYCLE_AFTER: dict[AttemptOutcome, timedelta] = {
    AttemptOutcome.BUSY: timedelta(minutes=15), AttemptOutcome.NO_ANSWER: timedelta(hours=2),
    AttemptOutcome.CANCELLED: timedelta(hours=2), AttemptOutcome.UNAVAILABLE: timedelta(minutes=30),
    AttemptOutcome.NETWORK_ERROR: timedelta(minutes=10), AttemptOutcome.INTERRUPTED: timedelta(minutes=10),
    AttemptOutcome.MACHINE: timedelta(hours=4), AttemptOutcome.ABANDONED: timedelta(hours=1),
    AttemptOutcome.REJECTED: timedelta(days=1), AttemptOutcome.ANSWERED: timedelta(days=1),
    AttemptOutcome.INVALID_NUMBER: timedelta(days=365), AttemptOutcome.IN_FLIGHT: timedelta(days=365),
}


class Ranking(Protocol):
    """A campaign's strategy (campaigns.analytics.strategy.Ranking): each case's champion/challenger arm and its
    score. It only reorders the cases the hopper found; the gate still decides every lead."""

    def arm(self, account_id: int) -> str: ...

    def score(self, account_id: int, balance: Decimal, base: float, now: datetime) -> float: ...


@dataclass(frozen=True)
class Lead:
    account_id: int
    phone_id: int
    e164: str
    score: float
    arm: str | None = None  # the ranking's arm for this case, written on its attempt


class Hopper:
    def __init__(self, store: Store, gate: ComplianceGate, segment: Segment, facts: CampaignFacts, *,
                 ranking: Ranking | None = None) -> None:
        self.store, self.gate, self.segment, self.facts = store, gate, segment, facts
        self.ranking = ranking

    def leads(self, now: datetime, limit: int, *, today: date | None = None,
              exclude: frozenset[int] = frozenset()) -> list[Lead]:
        """Up to `limit` dialable leads, best first; `exclude` holds accounts already in flight here."""
        today = today or now.date()
        with self.store.session() as session:
            ids = [i for i in session.scalars(case_query(self.segment, today, now)) if i not in exclude]
            resting = self._resting(session, ids, now)
            ids = [i for i in ids if i not in resting]
            if not ids:
                return []
            accounts = session.execute(select(Account.id, Account.debtor_id, Account.balance, Account.due_date)
                                       .where(Account.id.in_(ids))).all()
            broken = dict(session.execute(select(Promise.account_id, func.count())
                                          .where(Promise.account_id.in_(ids), Promise.status == PromiseStatus.BROKEN)
                                          .group_by(Promise.account_id)).all())
            recent = set(session.scalars(select(Attempt.account_id).where(
                Attempt.account_id.in_(ids), Attempt.started_at >= now - RECENT_CONTACT, Attempt.conversation)))
            phones = session.execute(select(Phone.id, Phone.debtor_id, Phone.e164, Phone.kind, Phone.owner,
                                            Phone.priority)
                                     .where(Phone.debtor_id.in_({a.debtor_id for a in accounts}),
                                            Phone.status == PhoneStatus.ACTIVE)).all()
        by_debtor: dict[int, list] = {}  # type: ignore[type-arg]
        for phone in sorted(phones, key=lambda p: (p.owner is not PhoneOwner.DEBTOR, PHONE_ORDER.get(p.kind, 3),
                                                   p.priority, p.id)):
            by_debtor.setdefault(phone.debtor_id, []).append(phone)
        score = {a.id: priority((today - a.due_date).days if a.due_date else 0, a.balance, broken.get(a.id, 0),
                                a.id in recent) for a in accounts}
        if self.ranking is not None:
            score = {a.id: self.ranking.score(a.id, a.balance, score[a.id], now) for a in accounts}
        ranked = [a for a in sorted(accounts, key=lambda a: -score[a.id]) if a.debtor_id in by_debtor]
        leads: list[Lead] = []
        for start in range(0, len(ranked), GATE_BATCH):
            batch = ranked[start:start + GATE_BATCH]
            pairs = [(account.id, phone.id) for account in batch for phone in by_debtor[account.debtor_id]]
            decided = dict(zip(pairs, self.gate.check_many(pairs, now, self.facts)))
            for account in batch:
                allowed = next((phone for phone in by_debtor[account.debtor_id]
                                if decided[(account.id, phone.id)].allowed), None)
                if allowed is not None:
                    leads.append(Lead(account.id, allowed.id, allowed.e164, score[account.id],
                                      self.ranking.arm(account.id) if self.ranking is not None else None))
                    if len(leads) >= limit:
                        return leads
        return leads

    @staticmethod
    def _resting(session: Session, ids: list[int], now: datetime) -> set[int]:
        """Accounts whose last call is too recent for its outcome (RECYCLE_AFTER); messages sent since do not
        hide it."""
        calls = (Attempt.account_id.in_(ids), Attempt.channel == Channel.CALL)
        latest = (select(Attempt.account_id, func.max(Attempt.started_at).label("at"))
                  .where(*calls).group_by(Attempt.account_id).subquery())
        rows = session.execute(select(Attempt.account_id, Attempt.started_at, Attempt.outcome)
                               .join(latest, (Attempt.account_id == latest.c.account_id)
                                     & (Attempt.started_at == latest.c.at)).where(*calls)).all()
        return {row.account_id for row in rows if now - row.started_at < RECYCLE_AFTER.get(row.outcome, timedelta())}

    def claim(self, lead: Lead, now: datetime, *, owner: str | None = None) -> int | None:
        """The in-flight attempt id, or None when the gate now refuses or another node holds the case (neither
        is dialled), or the case was called since the lead was fetched and rests now (RECYCLE_AFTER: on another
        node, the lead sat in this one's buffer). `owner`: the claiming runner's lease owner, on the attempt."""
        decision, attempt_id = attempts.claim(
            self.store, self.gate, lead.account_id, lead.phone_id, now, self.facts, arm=lead.arm, owner=owner,
            due=lambda session: not self._resting(session, [lead.account_id], now))
        return attempt_id if decision.allowed else None
