"""Which records are past their retention (recordings/retention.yaml) and which of those a preserving hold keeps:
the read side of the destruction job (`campaigns.destruction`), queries only.

Preserving holds are `legal` (proceedings) and `dispute` (the records may be evidence either way), active at
the run's time, on the debtor, the account, the phone or the number. A record of no known jurisdiction (no
policy) is kept. Numbers are compared here, in Python, on the values the store returns, never in SQL: the
columns holding them may be encrypted with a fresh nonce per row.

A closed case is an account paid, settled, recalled or closed; its period runs from its closing, read as the
latest change the account saw (its row's update, its last attempt, payment, promise, plan or note), which is
never earlier than the real closing: the store keeps no closing date, and a later date only keeps it longer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cases.models import (Account, AccountStatus, AfterCallState, Attempt, AttemptOutcome, Hold, HoldKind, Note,
                          Payment, Phone, Promise, RepaymentPlan)
from recordings.retention import Anchor, Policy, RecordKind, RetentionPolicies

PRESERVING_HOLDS = (HoldKind.LEGAL, HoldKind.DISPUTE)
CLOSED_STATUSES = (AccountStatus.PAID, AccountStatus.SETTLED, AccountStatus.RECALLED, AccountStatus.CLOSED)
Scope = tuple[int, int, int | None, str | None]  # debtor, account, phone, number


@dataclass(frozen=True)
class Holds:
    """The scopes under an active preserving hold."""

    debtors: frozenset[int]
    accounts: frozenset[int]
    phones: frozenset[int]
    numbers: frozenset[str]

    def cover(self, scope: Scope) -> bool:
        debtor, account, phone, number = scope
        return (debtor in self.debtors or account in self.accounts or phone in self.phones
                or number in self.numbers)


def preserving_holds(session: Session, now: datetime) -> Holds:
    rows = session.execute(select(Hold.debtor_id, Hold.account_id, Hold.phone_id, Hold.e164).where(
        Hold.kind.in_(PRESERVING_HOLDS), Hold.released_at.is_(None), Hold.starts_at <= now,
        or_(Hold.ends_at.is_(None), Hold.ends_at > now))).all()
    columns: list[Iterable[Any]] = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    debtors, accounts, phones, numbers = (frozenset(value for value in column if value is not None)
                                          for column in columns)
    return Holds(debtors, accounts, phones, numbers)


def last_activity(session: Session) -> dict[int, datetime]:
    """Each account's last attempt."""
    return dict(session.execute(select(Attempt.account_id, func.max(Attempt.started_at))  # type: ignore[arg-type]
                                .group_by(Attempt.account_id)).all())


@dataclass
class Due:
    """The records of one kind due under one jurisdiction's policy: attempt or account ids, each with its
    anonymous tally (what the destruction log keeps of them)."""

    policy: Policy
    ids: list[int] = field(default_factory=list)
    tallies: list[Counter[str]] = field(default_factory=list)

    def add(self, record_id: int, **tally: int) -> None:
        self.ids.append(record_id)
        self.tallies.append(Counter(tally))

    def tally(self, start: int, stop: int) -> dict[str, int]:
        """The tally of the records ids[start:stop]."""
        return dict(sum(self.tallies[start:stop], Counter()))


@dataclass
class Expiry:
    due: list[Due] = field(default_factory=list)
    held: set[int] = field(default_factory=set)  # past their time, kept by a hold
    waiting: set[int] = field(default_factory=set)  # past their time, a recording or transcript (or a call) not done
    no_policy: int = 0


def _group(found: dict[str, Due], policy: Policy) -> Due:
    return found.setdefault(policy.jurisdiction, Due(policy))


Recorded = Callable[[int, str], bool]  # (attempt id, recording path): is anything of the call's files left?


def due_attempts(session: Session, policies: RetentionPolicies, now: datetime, holds: Holds,
                 recorded: Recorded) -> Expiry:
    """Closed calls and messages past the `attempts` period, by jurisdiction (the pack of their receipt, else
    their account's). One whose recording or transcript is still left waits for it to go first (the row is
    what names the file)."""
    expiry, found = Expiry(), dict[str, Due]()
    last = last_activity(session)
    pack = Attempt.receipt[("pack", "name")].as_string()
    rows = session.execute(
        select(Attempt.id, Attempt.account_id, Attempt.phone_id, Attempt.number_e164, Attempt.started_at,
               Attempt.channel, Attempt.outcome, Attempt.recording_path, pack.label("pack"),
               Account.jurisdiction, Account.debtor_id)
        .join(Account, Account.id == Attempt.account_id)
        .where(Attempt.outcome != AttemptOutcome.IN_FLIGHT,
               or_(Attempt.aftercall.is_(None), Attempt.aftercall != AfterCallState.QUEUED),
               Attempt.started_at <= now - timedelta(days=policies.shortest_days(RecordKind.ATTEMPTS)))
        .order_by(Attempt.id))
    for row in rows:
        policy = policies.policy(row.pack or row.jurisdiction, RecordKind.ATTEMPTS)
        if policy is None:
            expiry.no_policy += 1
            continue
        anchor = last[row.account_id] if policy.anchor is Anchor.LAST_ACTIVITY else row.started_at
        if policy.due(anchor) > now:
            continue
        if holds.cover((row.debtor_id, row.account_id, row.phone_id, row.number_e164)):
            expiry.held.add(row.id)
        elif row.recording_path is not None and recorded(row.id, row.recording_path):
            expiry.waiting.add(row.id)
        else:
            _group(found, policy).add(row.id, **{f"{row.channel.value}/{row.outcome.value}": 1})
    expiry.due = list(found.values())
    return expiry


def _closed_at(session: Session, accounts: list[int]) -> dict[int, datetime]:
    """Each closed account's latest change (see the module's docstring)."""
    closed = dict(session.execute(select(Account.id, Account.updated_at).where(Account.id.in_(accounts))).all())
    for column, at in ((Attempt.account_id, Attempt.started_at), (Payment.account_id, Payment.created_at),
                       (Promise.account_id, Promise.created_at), (RepaymentPlan.account_id, RepaymentPlan.created_at),
                       (Note.account_id, Note.created_at)):
        for account, latest in session.execute(select(column, func.max(at)).where(column.in_(accounts))
                                               .group_by(column)).all():
            closed[account] = max(closed[account], latest)
    return closed


def due_cases(session: Session, policies: RetentionPolicies, now: datetime, holds: Holds, recorded: Recorded,
              gone: set[int]) -> Expiry:
    """Closed accounts past the `closed_cases` period, by their jurisdiction; each Due's tally counts the
    accounts, their attempts and the debtors erased with them (none of whose accounts is left). `gone`:
    attempts this run destroys before (a dry run's are still there)."""
    expiry, found = Expiry(), dict[str, Due]()
    cases = session.execute(select(Account.id, Account.debtor_id, Account.jurisdiction)
                            .where(Account.status.in_(CLOSED_STATUSES)).order_by(Account.id)).all()
    for start in range(0, len(cases), 1000):
        batch = cases[start:start + 1000]
        ids = [case.id for case in batch]
        closed = _closed_at(session, ids)
        phones: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for phone in session.execute(select(Phone.id, Phone.debtor_id, Phone.e164).where(
                Phone.debtor_id.in_({case.debtor_id for case in batch}))):
            phones[phone.debtor_id].append((phone.id, phone.e164))
        attempts: dict[int, list[tuple[int, bool]]] = defaultdict(list)
        for attempt in session.execute(select(Attempt.id, Attempt.account_id, Attempt.recording_path,
                                              Attempt.outcome, Attempt.aftercall).where(Attempt.account_id.in_(ids))):
            if attempt.id in gone:
                continue
            busy = attempt.outcome is AttemptOutcome.IN_FLIGHT or attempt.aftercall is AfterCallState.QUEUED
            attempts[attempt.account_id].append((attempt.id, not busy and (
                attempt.recording_path is None or not recorded(attempt.id, attempt.recording_path))))
        for case in batch:
            policy = policies.policy(case.jurisdiction, RecordKind.CLOSED_CASES)
            if policy is None:
                expiry.no_policy += 1
                continue
            if policy.due(closed[case.id]) > now:
                continue
            scopes = [(case.debtor_id, case.id, phone, number) for phone, number in phones[case.debtor_id]]
            if any(holds.cover(scope) for scope in scopes or [(case.debtor_id, case.id, None, None)]):
                expiry.held.add(case.id)
            elif not all(free for _, free in attempts[case.id]):
                expiry.waiting.add(case.id)
            else:
                _group(found, policy).add(case.id, accounts=1, attempts=len(attempts[case.id]))
    _count_debtors(session, found)
    expiry.due = list(found.values())
    return expiry


def _count_debtors(session: Session, found: dict[str, Due]) -> None:
    """Tally each debtor none of whose accounts is left once these are erased, under the policy of the last."""
    erased = {account: tally for due in found.values() for account, tally in zip(due.ids, due.tallies, strict=True)}
    owners: dict[int, list[int]] = defaultdict(list)
    debtors = select(Account.debtor_id).where(Account.status.in_(CLOSED_STATUSES))
    for account, debtor in session.execute(select(Account.id, Account.debtor_id).where(
            Account.debtor_id.in_(debtors)).order_by(Account.id)):
        owners[debtor].append(account)
    for accounts in owners.values():
        if all(account in erased for account in accounts):
            erased[accounts[-1]]["debtors"] += 1
