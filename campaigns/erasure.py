"""Erasing closed cases past their retention (`campaigns.destruction`): an account and everything the case
store holds on it, then its debtor (phones, addresses) once no account of theirs is left.

What goes with an account: its attempts (`campaigns.attempts.destroy`, with their notes and findings), its other
notes, promises, repayment plans and instalments, payments and the statement lines matched to it or to them
(a payer's name is personal data of the debtor's side), screening findings, assignments, DPD snapshots, the
reminders sent, and the holds on it. With the debtor go the holds on the debtor and on their phones. A hold on
a bare number (a DNC list's) names no case and stays. A finding of another case that placed one of the holds
deleted only stops naming it.

Not erased: the hash-chained audit log (its rows name entities by id and mask numbers; deleting a row would
break the chain a regulator checks) and the IVR's verification counters (an account id and a time, pruned by
their own window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from campaigns.attempts import destroy
from cases.models import (Account, Address, Attempt, CaseAssignment, Debtor, DpdSnapshot, Hold, Installment,
                          Note, Payment, Phone, Promise, ReminderSent, RepaymentPlan, ScreeningFinding,
                          ScreeningReview, StatementLineRow)


@dataclass(frozen=True)
class Erased:
    accounts: int
    debtors: int
    attempts: int


def _delete_holds(session: Session, *where: object) -> None:
    holds = select(Hold.id).where(or_(*where))  # type: ignore[arg-type]
    session.execute(update(ScreeningFinding).where(ScreeningFinding.hold_id.in_(holds)).values(hold_id=None))
    session.execute(delete(Hold).where(Hold.id.in_(holds)))


def erase_cases(session: Session, account_ids: Sequence[int]) -> Erased:
    """Erase these accounts (the caller chose them: closed, past their time, held by nothing, their recordings
    gone) and the debtors left without an account; in the caller's transaction."""
    ids = list(account_ids)
    debtors = set(session.scalars(select(Account.debtor_id).where(Account.id.in_(ids))))
    attempts = list(session.scalars(select(Attempt.id).where(Attempt.account_id.in_(ids))))
    destroy(session, attempts)
    findings = select(ScreeningFinding.id).where(ScreeningFinding.account_id.in_(ids))
    session.execute(delete(ScreeningReview).where(ScreeningReview.finding_id.in_(findings)))
    plans = select(RepaymentPlan.id).where(RepaymentPlan.account_id.in_(ids))
    payments = select(Payment.id).where(Payment.account_id.in_(ids))
    session.execute(delete(Installment).where(Installment.plan_id.in_(plans)))
    session.execute(delete(StatementLineRow).where(or_(StatementLineRow.account_id.in_(ids),
                                                       StatementLineRow.payment_id.in_(payments))))
    for table in (ScreeningFinding, Note, Promise, RepaymentPlan, Payment, CaseAssignment, DpdSnapshot, ReminderSent):
        session.execute(delete(table).where(table.account_id.in_(ids)))
    _delete_holds(session, Hold.account_id.in_(ids))
    session.execute(delete(Account).where(Account.id.in_(ids)))
    orphans = list(debtors - set(session.scalars(select(Account.debtor_id).where(Account.debtor_id.in_(debtors)))))
    if orphans:
        _delete_holds(session, Hold.debtor_id.in_(orphans),
                      Hold.phone_id.in_(select(Phone.id).where(Phone.debtor_id.in_(orphans))))
        for table in (Phone, Address):
            session.execute(delete(table).where(table.debtor_id.in_(orphans)))
        session.execute(delete(Debtor).where(Debtor.id.in_(orphans)))
    return Erased(len(ids), len(orphans), len(attempts))
