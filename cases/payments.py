"""Payments into the case store: importing a statement, applying a payment, the unmatched queue, settling promises.

Each operation runs in the caller's session (one transaction). Applying a payment writes the `Payment`, lowers
the balance, pays the active plan's instalments in order, and appends an audit record; the matching and the
settlement decisions are the pure modules `cases.reconcile` and `cases.settlement`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.audit import record
from cases.models import (Account, Address, Debtor, Installment, InstallmentStatus, LineStatus, Payment, PaymentChannel,
                          PlanStatus, Promise, PromiseStatus, RepaymentPlan, StatementLineRow)
from cases.reconcile import Candidate, match
from cases.settlement import PromiseState, PromiseTerms, deadline, settle
from cases.statements import StatementLine, StatementSource

CHANNELS = {StatementSource.BANK: PaymentChannel.BANK_TRANSFER, StatementSource.ALIPAY: PaymentChannel.ALIPAY,
            StatementSource.WECHAT: PaymentChannel.WECHAT_PAY}


class PaymentError(ValueError):
    """A resolution or payment that cannot be applied (unknown item or account, already resolved)."""


@dataclass(frozen=True)
class ImportSummary:
    lines: int
    already_imported: int
    matched: int
    unmatched: int


def candidates(session: Session) -> list[Candidate]:
    """Every account with a balance, its debtor's name and the amounts it expects (pending promises, due
    instalments of an active plan)."""
    expected: dict[int, set[Decimal]] = {}
    for account_id, amount in session.execute(
            select(Promise.account_id, Promise.amount).where(Promise.status == PromiseStatus.PENDING)):
        expected.setdefault(account_id, set()).add(amount)
    for account_id, amount, paid in session.execute(
            select(RepaymentPlan.account_id, Installment.amount, Installment.paid_amount)
            .join(Installment.plan).where(RepaymentPlan.status == PlanStatus.ACTIVE,
                                          Installment.status.in_((InstallmentStatus.DUE, InstallmentStatus.PARTIAL)))):
        expected.setdefault(account_id, set()).add(amount - paid)
    rows = session.execute(select(Account.id, Account.account_ref, Debtor.full_name)
                           .join(Debtor, Account.debtor_id == Debtor.id).where(Account.balance > 0))
    return [Candidate(i, ref, name, frozenset(expected.get(i, ()))) for i, ref, name in rows]


def apply_payment(session: Session, account: Account, amount: Decimal, paid_on: date, channel: PaymentChannel,
                  external_ref: str | None, actor: str) -> Payment:
    payment = Payment(account_id=account.id, amount=amount, paid_on=paid_on, channel=channel,
                      external_ref=external_ref)
    session.add(payment)
    account.balance = max(Decimal("0.00"), account.balance - amount)
    plan = session.scalars(select(RepaymentPlan).where(RepaymentPlan.account_id == account.id,
                                                       RepaymentPlan.status == PlanStatus.ACTIVE)).first()
    left = amount
    if plan is not None:
        for installment in plan.installments:  # in order of seq
            owed = installment.amount - installment.paid_amount
            if owed <= 0 or left <= 0:
                continue
            paid = min(owed, left)
            installment.paid_amount += paid
            left -= paid
            installment.status = InstallmentStatus.PAID if paid == owed else InstallmentStatus.PARTIAL
        if all(i.status is InstallmentStatus.PAID for i in plan.installments):
            plan.status = PlanStatus.COMPLETED
    session.flush()
    record(session, actor=actor, action="payment.apply", entity="account", entity_id=account.id,
           details={"payment": payment.id, "amount": str(amount), "channel": channel.value,
                    "ref": external_ref, "balance": str(account.balance)})
    return payment


def import_statement(session: Session, lines: list[StatementLine], actor: str) -> ImportSummary:
    """Store each new line, apply those a rule matches, queue the rest; lines already imported are skipped."""
    known = {(s, t) for s, t in session.execute(select(StatementLineRow.source, StatementLineRow.txn_id)
                                                 .where(StatementLineRow.txn_id.in_([l.txn_id for l in lines])))}
    pool = candidates(session)
    matched = unmatched = 0
    for line in lines:
        if (line.source.value, line.txn_id) in known:
            continue
        found = match(line, pool)
        row = StatementLineRow(source=line.source.value, txn_id=line.txn_id, paid_at=line.paid_at, amount=line.amount,
                               payer_name=line.payer_name, memo=line.memo, order_id=line.order_id,
                               rule=found.rule.value, candidates=list(found.candidates),
                               status=LineStatus.MATCHED if found.matched else LineStatus.UNMATCHED)
        session.add(row)
        if found.account_id is not None:
            account = session.get_one(Account, found.account_id)
            payment = apply_payment(session, account, line.amount, line.paid_at.date(), CHANNELS[line.source],
                                    line.txn_id, actor)
            row.account_id, row.payment_id = account.id, payment.id
            matched += 1
        else:
            unmatched += 1
    session.flush()
    return ImportSummary(len(lines), len(lines) - matched - unmatched, matched, unmatched)


def unmatched_lines(session: Session) -> list[StatementLineRow]:
    return list(session.scalars(select(StatementLineRow).where(StatementLineRow.status == LineStatus.UNMATCHED)
                                .order_by(StatementLineRow.id)))


def resolve(session: Session, item_id: int, account_id: int, actor: str) -> Payment:
    """A person assigns an unmatched line to an account: the payment is applied and the choice audited."""
    row = session.get(StatementLineRow, item_id)
    if row is None or row.status is not LineStatus.UNMATCHED:
        raise PaymentError(f"unmatched item {item_id}: no such item waiting in the queue")
    account = session.get(Account, account_id)
    if account is None:
        raise PaymentError(f"account {account_id}: no such account")
    source = StatementSource(row.source)
    payment = apply_payment(session, account, row.amount, row.paid_at.date(), CHANNELS[source], row.txn_id, actor)
    row.status, row.account_id, row.payment_id = LineStatus.RESOLVED, account.id, payment.id
    record(session, actor=actor, action="payment.resolve", entity="statement_line", entity_id=row.id,
           details={"account": account.id, "candidates": row.candidates, "rule": row.rule})
    return payment


EARLIEST_OFFSET = timedelta(hours=12)  # UTC-12: no inhabited zone's calendar day starts later than this


def local_day(session: Session, account_id: int, at: datetime) -> date:
    """The debtor's calendar day at `at`: by the time zone of their address; without one, the earliest day the
    instant can be anywhere (UTC-12), which never dates an evening in the Americas as the next day. Payments
    are dated by the debtor's day (`paid_on`), so promises are too."""
    zone = session.scalar(select(Address.timezone).join(Account, Account.debtor_id == Address.debtor_id)
                          .where(Account.id == account_id, Address.timezone.is_not(None))
                          .order_by(Address.id).limit(1))
    if zone:
        try:
            return at.astimezone(ZoneInfo(zone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return (at - EARLIEST_OFFSET).date()


def settle_promises(session: Session, at: datetime, grace_days: int | Mapping[str, int],
                    actor: str) -> dict[PromiseStatus, int]:
    """Settle each pending promise as of `at`: what counts is what the account paid from the day the promise was
    made to its deadline. `grace_days`: days after the promised date a payment still keeps the promise, one for
    all or per jurisdiction (the rule packs' `promise_grace_days`; a jurisdiction missing from it gets the
    longest, so no promise is called broken early). Returns how many promises reached each state; running it
    again changes nothing."""
    counts: dict[PromiseStatus, int] = {}
    rows = session.execute(select(Promise, Account.jurisdiction).join(Account, Account.id == Promise.account_id)
                           .where(Promise.status == PromiseStatus.PENDING).order_by(Promise.id)).all()
    for promise, jurisdiction in rows:
        grace = grace_days if isinstance(grace_days, int) else \
            grace_days.get(jurisdiction, max(grace_days.values(), default=0))
        paid = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.account_id == promise.account_id,
            Payment.paid_on >= local_day(session, promise.account_id, promise.created_at),
            Payment.paid_on <= min(at.date(), deadline(promise.promised_for, grace))))
        state = settle(PromiseTerms(promise.amount, promise.promised_for), Decimal(paid), grace, at)
        if state is PromiseState.PENDING:
            continue
        promise.status = PromiseStatus(state.value)
        counts[promise.status] = counts.get(promise.status, 0) + 1
        record(session, actor=actor, action="promise.settle", entity="promise", entity_id=promise.id,
               details={"status": state.value, "paid": str(paid), "at": at.isoformat(), "grace_days": grace})
    return counts
