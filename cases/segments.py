"""Segments: which cases a campaign (or an operator at the CLI) is talking about.

Days past due are computed from the due date at query time, never stored, so a segment is always
current. `case_query` returns a SELECT of account ids that campaigns compose further.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from cases.dpd import DPD_BUCKETS
from cases.models import Account, AccountStatus, Address, Attempt, Debtor, Phone, PhoneOwner


class UnknownBucket(ValueError):
    """A days-past-due bucket that does not exist."""


@dataclass(frozen=True)
class Segment:
    dpd: tuple[str, ...] = ()
    min_balance: Decimal | None = None
    max_balance: Decimal | None = None
    regions: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    statuses: tuple[str, ...] = field(default=(AccountStatus.OPEN.value, AccountStatus.PROMISED.value,
                                             AccountStatus.ON_PLAN.value))
    creditors: tuple[str, ...] = ()
    not_contacted_for_days: int | None = None  # last attempt older than this, or never
    contacted_within_days: int | None = None

    def __post_init__(self) -> None:
        unknown = [b for b in self.dpd if b not in DPD_BUCKETS]
        if unknown:
            raise UnknownBucket(f"unknown days-past-due bucket(s) {unknown}; use {list(DPD_BUCKETS)}")


def _dpd_condition(bucket: str, today: date):  # type: ignore[no-untyped-def]
    low, high = DPD_BUCKETS[bucket]
    overdue = and_(Account.overdue_amount > 0, Account.due_date.is_not(None))
    if high == 0:
        return or_(Account.overdue_amount <= 0, Account.due_date.is_(None), Account.due_date >= today)
    condition = and_(overdue, Account.due_date <= today - timedelta(days=low))
    if high is not None:
        condition = and_(condition, Account.due_date >= today - timedelta(days=high))
    return condition


def case_query(segment: Segment, today: date, now: datetime | None = None) -> Select[tuple[int]]:
    """SELECT Account.id for every account in the segment, oldest due date first."""
    now = now or datetime.now(timezone.utc)
    query = select(Account.id)
    if segment.dpd:
        query = query.where(or_(*(_dpd_condition(b, today) for b in segment.dpd)))
    if segment.min_balance is not None:
        query = query.where(Account.balance >= segment.min_balance)
    if segment.max_balance is not None:
        query = query.where(Account.balance <= segment.max_balance)
    if segment.products:
        query = query.where(Account.product.in_(segment.products))
    if segment.jurisdictions:
        query = query.where(Account.jurisdiction.in_([j.upper() for j in segment.jurisdictions]))
    if segment.statuses:
        query = query.where(Account.status.in_(segment.statuses))
    if segment.creditors:
        query = query.where(Account.creditor.in_(segment.creditors))
    if segment.languages:
        query = query.where(exists().where(Debtor.id == Account.debtor_id, Debtor.language.in_(segment.languages)))
    if segment.regions:
        query = query.where(exists().where(Address.debtor_id == Account.debtor_id, Address.region.in_(segment.regions)))
    if segment.not_contacted_for_days is not None:
        since = now - timedelta(days=segment.not_contacted_for_days)
        query = query.where(~exists().where(Attempt.account_id == Account.id, Attempt.started_at >= since))
    if segment.contacted_within_days is not None:
        since = now - timedelta(days=segment.contacted_within_days)
        query = query.where(exists().where(Attempt.account_id == Account.id, Attempt.started_at >= since))
    return query.order_by(Account.due_date.asc().nulls_last(), Account.id)


@dataclass(frozen=True)
class CaseSummary:
    """A case as a list shows it. Of the debtor's personal data it holds the primary phone alone: a 1,000-case
    page would otherwise open (decrypt) a national ID, a birth date and an e-mail per case that no list shows;
    one case's view reads them from its debtor."""

    account_id: int
    account_ref: str
    creditor: str
    debtor_id: int
    full_name: str
    phone: str | None
    region: str | None
    language: str
    product: str
    currency: str
    balance: Decimal
    overdue_amount: Decimal
    days_past_due: int
    jurisdiction: str
    status: str
    last_attempt_at: datetime | None


def count_cases(session: Session, segment: Segment, today: date, now: datetime | None = None) -> int:
    ids = case_query(segment, today, now).order_by(None).subquery()
    return session.execute(select(func.count()).select_from(ids)).scalar_one()


def list_cases(session: Session, segment: Segment, today: date, *, now: datetime | None = None, limit: int = 50,
               offset: int = 0) -> list[CaseSummary]:
    ids = [row[0] for row in session.execute(case_query(segment, today, now).limit(limit).offset(offset))]
    return load_summaries(session, ids, today)


def load_summaries(session: Session, account_ids: list[int], today: date) -> list[CaseSummary]:
    if not account_ids:
        return []
    primary_phone = (select(Phone.e164).where(Phone.debtor_id == Debtor.id, Phone.owner == PhoneOwner.DEBTOR)
                     .order_by(Phone.priority, Phone.id).limit(1).scalar_subquery())
    region = select(Address.region).where(Address.debtor_id == Debtor.id).limit(1).scalar_subquery()
    last_attempt = select(func.max(Attempt.started_at)).where(Attempt.account_id == Account.id).scalar_subquery()
    rows = session.execute(
        select(Account, Debtor.full_name, Debtor.language, primary_phone, region, last_attempt)
        .join(Debtor, Debtor.id == Account.debtor_id).where(Account.id.in_(account_ids))
    ).all()
    by_id = {row[0].id: row for row in rows}
    summaries = []
    for account_id in account_ids:
        account, full_name, language, phone, region_name, last = by_id[account_id]
        summaries.append(CaseSummary(
            account_id=account.id, account_ref=account.account_ref, creditor=account.creditor,
            debtor_id=account.debtor_id, full_name=full_name, phone=phone, region=region_name,
            language=language.value,
            product=account.product.value, currency=account.currency, balance=account.balance,
            overdue_amount=account.overdue_amount, days_past_due=account.days_past_due(today),
            jurisdiction=account.jurisdiction, status=account.status.value,
            last_attempt_at=last if last is None or last.tzinfo else last.replace(tzinfo=timezone.utc),
        ))
    return summaries
