"""What analytics reads of the case store: feature rows as of a date (the history before it, and whether the
account paid in the 30 days after it, the training label), and the call history best time learns from. Only
`features.FEATURES`, products, time zones and call outcomes are read; no protected attribute is queried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from campaigns.analytics.besttime import Outcome
from campaigns.analytics.features import frame
from cases import Store
from cases.models import (Account, Address, AddressKind, Attempt, AttemptOutcome, Channel, Payment, Promise,
                          PromiseStatus)
from compliance.localtime import local

LABEL_DAYS = 30
# A promise's kept/broken status is decided after its date plus the pack's grace (a few days), possibly by a
# payment made after `as_of`: only promises this much older than `as_of` were surely settled by then.
SETTLED_AFTER_DAYS = 14


def rows(store: Store, as_of: date) -> tuple[list[int], list[dict[str, object]], list[int]]:
    """(account ids, feature rows, labels): label 1 when a payment falls in (as_of, as_of + 30 days].

    Every feature is what the store knew at `as_of`, never later: the label's own payments must not leak
    into them. The balance is today's plus what was paid since `as_of` (payments are what lower it): read
    as it stands, a lower balance would mean "paid in the label window", the model would learn that small
    balances pay, and the ranking would then chase small debts."""
    start = datetime.combine(as_of, time(), timezone.utc)
    with store.session() as session:
        accounts = session.execute(select(Account.id, Account.debtor_id, Account.balance, Account.due_date,
                                          Account.product)).all()
        region = dict(session.execute(select(Address.debtor_id, func.min(Address.region))
                                      .group_by(Address.debtor_id)).all())

        def count(query):  # type: ignore[no-untyped-def]
            return dict(session.execute(query).all())
        window = (Attempt.started_at >= start - timedelta(days=30), Attempt.started_at < start)
        attempts = count(select(Attempt.account_id, func.count()).where(*window).group_by(Attempt.account_id))
        contacts = count(select(Attempt.account_id, func.count()).where(*window, Attempt.conversation)
                         .group_by(Attempt.account_id))
        kept, broken = (count(select(Promise.account_id, func.count()).where(
            Promise.status == status, Promise.promised_for < as_of - timedelta(days=SETTLED_AFTER_DAYS))
            .group_by(Promise.account_id))
            for status in (PromiseStatus.KEPT, PromiseStatus.BROKEN))
        past = (Payment.paid_on <= as_of, Payment.paid_on > as_of - timedelta(days=90))
        payments = count(select(Payment.account_id, func.count()).where(*past).group_by(Payment.account_id))
        paid = count(select(Payment.account_id, func.sum(Payment.amount)).where(*past).group_by(Payment.account_id))
        paid_since = count(select(Payment.account_id, func.sum(Payment.amount)).where(Payment.paid_on > as_of)
                           .group_by(Payment.account_id))
        paid_after = set(session.scalars(select(Payment.account_id).where(
            Payment.paid_on > as_of, Payment.paid_on <= as_of + timedelta(days=LABEL_DAYS))))
    ids, raw, labels = [], [], []
    for a in accounts:
        ids.append(a.id)
        tried = attempts.get(a.id, 0)
        raw.append({"contact_rate": contacts.get(a.id, 0) / tried if tried else 0.0,
                    "promises_kept": kept.get(a.id, 0), "promises_broken": broken.get(a.id, 0),
                    "payments_90d": payments.get(a.id, 0), "paid_amount_90d": float(paid.get(a.id, 0) or 0),
                    "days_past_due": max((as_of - a.due_date).days, 0) if a.due_date else 0,
                    "balance": float(a.balance + (paid_since.get(a.id) or 0)), "product": str(a.product), "region": region.get(a.debtor_id, "")})
        labels.append(int(a.id in paid_after))
    return ids, frame(raw), labels


@dataclass(frozen=True)
class CallHistory:
    """Each account's product, its debtor's time zone (home address first; UTC when none is known), and its
    calls' outcomes by the debtor's local weekday and hour (right party: the call became a conversation)."""

    products: dict[int, str]
    zones: dict[int, str]
    outcomes: dict[int, list[Outcome]]


def call_history(store: Store, since: datetime, until: datetime) -> CallHistory:
    with store.reading() as session:
        accounts = session.execute(select(Account.id, Account.debtor_id, Account.product)).all()
        zone_of: dict[int, str] = {}
        for debtor_id, kind, zone in session.execute(select(Address.debtor_id, Address.kind, Address.timezone)
                                                     .where(Address.timezone.is_not(None))).all():
            if debtor_id not in zone_of or kind is AddressKind.HOME:
                zone_of[debtor_id] = zone
        calls = session.execute(select(Attempt.account_id, Attempt.started_at, Attempt.conversation).where(
            Attempt.channel == Channel.CALL, Attempt.started_at >= since, Attempt.started_at < until,
            Attempt.outcome.not_in((AttemptOutcome.IN_FLIGHT, AttemptOutcome.INTERRUPTED)))).all()
    zones = {a.id: zone_of.get(a.debtor_id, "UTC") for a in accounts}
    outcomes: dict[int, list[Outcome]] = {}
    for account_id, started, conversation in calls:
        here = local(started, zones[account_id])
        outcomes.setdefault(account_id, []).append(Outcome(here.weekday(), here.hour, bool(conversation)))
    return CallHistory({a.id: str(a.product) for a in accounts}, zones, outcomes)


def dials_per_account(store: Store, since: date, until: date) -> float:
    """Calls per account dialled in [since, until): the calling regime a propensity label was observed under."""
    with store.reading() as session:
        accounts = session.scalar(select(func.count()).select_from(Account)) or 0
        calls = session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.channel == Channel.CALL, Attempt.started_at >= datetime.combine(since, time(), timezone.utc),
            Attempt.started_at < datetime.combine(until, time(), timezone.utc))) or 0
    return calls / accounts if accounts else 0.0


@dataclass(frozen=True)
class Paid:
    """One payment: its day, its amount, and the balance owed just before it."""

    day: date
    amount: float
    owed: float


def payments(store: Store, since: date) -> dict[int, list[Paid]]:
    """Each account's payments from `since` on, in order; what was owed before each is today's balance plus
    that payment and those after it (payments are what lower a balance)."""
    with store.reading() as session:
        balance = dict(session.execute(select(Account.id, Account.balance)).all())
        rows = session.execute(select(Payment.account_id, Payment.paid_on, Payment.amount)
                               .where(Payment.paid_on >= since).order_by(Payment.paid_on, Payment.id)).all()
    out: dict[int, list[Paid]] = {}
    for account_id, paid_on, amount in rows:
        out.setdefault(account_id, []).append(Paid(paid_on, float(amount), 0.0))
    for account_id, paid in out.items():
        owed = float(balance[account_id])
        for i in reversed(range(len(paid))):
            owed += paid[i].amount
            paid[i] = Paid(paid[i].day, paid[i].amount, owed)
    return out


def promised(store: Store, today: date) -> frozenset[int]:
    """Accounts with a pending promise whose date has not passed."""
    with store.reading() as session:
        return frozenset(session.scalars(select(Promise.account_id).where(
            Promise.status == PromiseStatus.PENDING, Promise.promised_for >= today)))


def conversations(store: Store, since: datetime, until: datetime) -> dict[int, list[datetime]]:
    """Each account's right-party conversations in [since, until), in call order."""
    with store.reading() as session:
        rows = session.execute(select(Attempt.account_id, Attempt.started_at).where(
            Attempt.conversation, Attempt.started_at >= since, Attempt.started_at < until)
            .order_by(Attempt.started_at)).all()
    out: dict[int, list[datetime]] = {}
    for account_id, started in rows:
        out.setdefault(account_id, []).append(started)
    return out
