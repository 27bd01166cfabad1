"""Plans stored and rescheduled in the case store: paid instalments kept, the rest spread within limits, the
old schedule kept in the audit and the case history."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from campaigns.repayment import OutsideLimits, PlanLimits, respread
from cases.models import (Account, AuditEntry, Debtor, InstallmentStatus, Note, PlanStatus, Product,
                          RepaymentPlan, Source)
from cases.plans import PlanError, reschedule, store_plan
from ivr.terms import Instalment

LIMITS = PlanLimits(6, Decimal("200"), Decimal("500"))
TODAY = date(2026, 5, 15)


def account(session) -> int:
    debtor = Debtor(external_ref="d-plan", full_name="王五")
    session.add(debtor)
    session.flush()
    row = Account(debtor_id=debtor.id, creditor="Acme", account_ref="LN-PLAN", product=Product.CONSUMER_LOAN,
                  currency="CNY", principal=Decimal("1500"), balance=Decimal("1500"), overdue_amount=Decimal("0"),
                  jurisdiction="CN")
    session.add(row)
    session.flush()
    return row.id


def test_store_then_reschedule_keeps_paid_and_the_old_schedule(store):
    with store.session() as session:
        plan = store_plan(session, account(session), [Instalment(n, date(2026, 2 + n, 1), Decimal("500"))
                                                      for n in (1, 2, 3)], source=Source.AGENT, actor="alice")
        assert plan.total_amount == Decimal("1500") and plan.installment_count == 3
        first, second, _ = plan.installments
        first.paid_amount, first.status = Decimal("500"), InstallmentStatus.PAID
        second.paid_amount, second.status = Decimal("100"), InstallmentStatus.PARTIAL
        reschedule(session, plan.id, respread(Decimal("300"), LIMITS, TODAY), actor="alice")
        session.commit()
        plan_id = plan.id
    with store.session() as session:
        plan = session.get(RepaymentPlan, plan_id)
        assert [(i.seq, i.due_date, i.amount, InstallmentStatus(i.status)) for i in plan.installments] == [
            (1, date(2026, 3, 1), Decimal("500"), InstallmentStatus.PAID),
            (2, date(2026, 4, 1), Decimal("100"), InstallmentStatus.PAID),
            (3, date(2026, 6, 15), Decimal("300"), InstallmentStatus.DUE),
            (4, date(2026, 7, 15), Decimal("300"), InstallmentStatus.DUE),
            (5, date(2026, 8, 15), Decimal("300"), InstallmentStatus.DUE)]
        assert plan.installment_count == 5
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "plan.rescheduled")).one()
        assert [i["amount"] for i in audit.details["old_schedule"]] == ["500.00", "500.00", "500.00"]
        assert audit.details["owed"] == "900"
        note = session.scalars(select(Note).where(Note.account_id == plan.account_id)).one()
        assert "2026-05-01 500.00" in note.body


def test_reschedule_outside_limits_names_the_field(store):
    with store.session() as session:
        plan = store_plan(session, account(session), [Instalment(1, date(2026, 3, 1), Decimal("1500"))],
                          source=Source.IVR, actor="ivr")
        with pytest.raises(OutsideLimits) as low:
            reschedule(session, plan.id, respread(Decimal("100"), LIMITS, TODAY), actor="bob")
        assert low.value.refusal.field == "monthly" and low.value.refusal.bounds == {"minimum": "200"}
        plan.status = PlanStatus.CANCELLED
        with pytest.raises(PlanError, match="cancelled"):
            reschedule(session, plan.id, respread(Decimal("300"), LIMITS, TODAY), actor="bob")
        with pytest.raises(PlanError, match="installments"):
            store_plan(session, plan.account_id, [], source=Source.IVR, actor="ivr")
