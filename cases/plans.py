"""Repayment plans in the case store: the one place that stores a plan with its instalments and reschedules one.

Functions of a session (the caller owns the transaction). Storing audits `plan.proposed`. Rescheduling keeps the
instalments already paid, closes a partly paid one at what was paid, and spreads what is still owed over new
instalments by the caller's `spread` (`campaigns.repayment.respread`: within the creditor's limits, without a
new down payment). The old schedule is kept in the audit row and in a note on the case
history, so nothing of it is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.orm import Session

from cases.audit import record
from cases.models import Installment, InstallmentStatus, Note, PlanStatus, RepaymentPlan, Source


class Due(Protocol):
    """One instalment of a schedule (`ivr.terms.Instalment` is one)."""

    seq: int
    due_date: date
    amount: Decimal

_OPEN_PLANS = (PlanStatus.PROPOSED, PlanStatus.ACTIVE)


class PlanError(ValueError):
    """A plan that cannot be stored or rescheduled; `field` names what is at fault."""

    def __init__(self, field: str, message: str, **bounds: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.bounds = field, message, bounds


def schedule_of(plan: RepaymentPlan) -> list[dict[str, str]]:
    """The plan's instalments as plain values, for the audit and the API."""
    return [{"seq": str(i.seq), "due_date": i.due_date.isoformat(), "amount": f"{i.amount:.2f}",
             "paid_amount": f"{i.paid_amount:.2f}", "status": InstallmentStatus(i.status).value}
            for i in plan.installments]


def store_plan(session: Session, account_id: int, schedule: Sequence[Due], *, source: Source, actor: str,
               details: dict[str, Any] | None = None) -> RepaymentPlan:
    """A new plan of `schedule` (its total is the sum of the instalments), audited under `actor`."""
    if not schedule:
        raise PlanError("installments", "a plan has at least one instalment")
    total = sum((due.amount for due in schedule), Decimal("0"))
    plan = RepaymentPlan(account_id=account_id, total_amount=total, installment_count=len(schedule), source=source)
    plan.installments = [Installment(seq=due.seq, due_date=due.due_date, amount=due.amount) for due in schedule]
    session.add(plan)
    session.flush()
    record(session, actor=actor, action="plan.proposed", entity="repayment_plan", entity_id=plan.id,
           details={"account_id": account_id, "installments": len(schedule), "total": str(total),
                    "source": source.value, **(details or {})})
    return plan


def reschedule(session: Session, plan_id: int, spread: Callable[[Decimal], Sequence[Due]], *, actor: str,
               author_id: int | None = None, details: dict[str, Any] | None = None) -> RepaymentPlan:
    """New instalments, `spread(owed)`, for what is still owed on the plan."""
    plan = session.get(RepaymentPlan, plan_id)
    if plan is None:
        raise LookupError(f"no repayment plan {plan_id}")
    if plan.status not in _OPEN_PLANS:
        raise PlanError("plan", f"a {PlanStatus(plan.status).value} plan cannot be rescheduled")
    old = schedule_of(plan)
    kept = [i for i in plan.installments if i.status == InstallmentStatus.PAID]
    open_ = [i for i in plan.installments if i.status != InstallmentStatus.PAID]
    owed = sum((i.amount - i.paid_amount for i in open_), Decimal("0"))
    if owed <= 0:
        raise PlanError("plan", "nothing is left to pay on this plan")
    proposal = spread(owed)
    for instalment in open_:
        if instalment.paid_amount > 0:  # partly paid: closed at what was paid, the rest moves to the new dates
            instalment.amount, instalment.status = instalment.paid_amount, InstallmentStatus.PAID
            kept.append(instalment)
        else:
            plan.installments.remove(instalment)
    session.flush()
    after = max((i.seq for i in kept), default=0)
    plan.installments.extend(Installment(seq=after + due.seq, due_date=due.due_date, amount=due.amount)
                             for due in proposal)
    plan.installment_count = len(plan.installments)
    session.flush()
    new = schedule_of(plan)
    record(session, actor=actor, action="plan.rescheduled", entity="repayment_plan", entity_id=plan.id,
           details={"account_id": plan.account_id, "owed": str(owed), "old_schedule": old, "new_schedule": new,
                    **(details or {})})
    session.add(Note(account_id=plan.account_id, author_id=author_id,
                     body=f"plan {plan.id} rescheduled: {owed} owed in {len(proposal)} instalment(s); "
                          "old schedule " + "; ".join(f"{i['due_date']} {i['amount']}" for i in old)))
    session.flush()
    return plan
