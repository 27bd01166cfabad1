"""Payments in the case store (SQLite and PostgreSQL): import, matching, queue, resolution, settlement."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from cases.models import (Account, Address, AuditEntry, Debtor, Installment, InstallmentStatus, LineStatus, Payment,
                          PlanStatus, Product, StatementLineRow, Promise, PromiseStatus, RepaymentPlan, Source)
from cases.payments import PaymentError, import_statement, resolve, settle_promises, unmatched_lines
from cases.statements import EXAMPLES, StatementLine, StatementSource, read_statement

MADE = datetime(2026, 3, 1, 2, tzinfo=timezone.utc)


def seed(session) -> dict[str, int]:
    ids = {}
    for ref, name, balance in (("LN-0001", "张三", "2000"), ("LN-0002", "李四", "900"), ("LN-0003", "李四", "900")):
        debtor = Debtor(external_ref=f"d-{ref}", full_name=name)
        session.add(debtor)
        session.flush()
        account = Account(debtor_id=debtor.id, creditor="Acme", account_ref=ref, product=Product.CONSUMER_LOAN,
                          currency="CNY", principal=Decimal(balance), balance=Decimal(balance),
                          overdue_amount=Decimal("0"), jurisdiction="CN")
        session.add(account)
        session.flush()
        ids[ref] = account.id
    plan = RepaymentPlan(account_id=ids["LN-0001"], total_amount=Decimal("1500"), installment_count=3,
                         source=Source.AGENT, status=PlanStatus.ACTIVE,
                         installments=[Installment(seq=n, due_date=date(2026, 3 + n, 1), amount=Decimal("500"))
                                       for n in (1, 2, 3)])
    session.add(plan)
    session.add(Promise(account_id=ids["LN-0002"], amount=Decimal("300"), promised_for=date(2026, 3, 10),
                        source=Source.IVR, created_at=MADE))
    session.add(Promise(account_id=ids["LN-0003"], amount=Decimal("300"), promised_for=date(2026, 3, 10),
                        source=Source.IVR, created_at=MADE))
    return ids


def line(txn: str, amount: str, payer: str | None, memo: str | None, day: int = 10) -> StatementLine:
    return StatementLine(StatementSource.BANK, 2, txn, datetime(2026, 3, day, 9), Decimal(amount), payer, memo)


def test_import_applies_matched_queues_the_rest_and_is_idempotent(store):
    with store.session() as session:
        ids = seed(session)
    lines = read_statement(EXAMPLES / "bank.csv", StatementSource.BANK)  # LN-0001 by memo; 李四 1200: unknown
    with store.session() as session:
        summary = import_statement(session, lines + [line("T-9", "300.00", "李四", None)], "tester")
    assert (summary.matched, summary.unmatched, summary.already_imported) == (1, 2, 0)
    with store.session() as session:
        again = import_statement(session, lines, "tester")
    assert (again.matched, again.unmatched, again.already_imported) == (0, 0, 2)
    with store.reading() as session:
        account = session.get_one(Account, ids["LN-0001"])
        assert account.balance == Decimal("1500.00")
        paid = session.scalars(select(Installment).order_by(Installment.seq)).all()
        assert [(i.paid_amount, i.status) for i in paid] == [(Decimal("500.00"), InstallmentStatus.PAID),
                                                             (Decimal("0.00"), InstallmentStatus.DUE),
                                                             (Decimal("0.00"), InstallmentStatus.DUE)]
        queue = unmatched_lines(session)
        assert [(q.txn_id, q.rule, sorted(q.candidates)) for q in queue] == [
            ("B20260310000002", "unknown", sorted([ids["LN-0002"], ids["LN-0003"]])),
            ("T-9", "ambiguous", sorted([ids["LN-0002"], ids["LN-0003"]]))]
        assert session.scalar(select(Payment.external_ref)) == "B20260310000001"


def test_resolution_applies_and_audits_and_cannot_repeat(store):
    with store.session() as session:
        ids = seed(session)
        import_statement(session, [line("T-9", "300.00", "李四", None)], "tester")
    with store.session() as session:
        (item,) = unmatched_lines(session)
        resolve(session, item.id, ids["LN-0003"], "alice")
    with store.reading() as session:
        assert unmatched_lines(session) == []
        assert session.get_one(Account, ids["LN-0003"]).balance == Decimal("600.00")
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "alice")).all()
        assert sorted(actions) == ["payment.apply", "payment.resolve"]
    with store.session() as session, pytest.raises(PaymentError, match=f"unmatched item {item.id}"):
        resolve(session, item.id, ids["LN-0002"], "alice")


def test_instalments_paid_in_order_across_payments(store):
    with store.session() as session:
        seed(session)
        import_statement(session, [line("A", "700.00", None, "LN-0001"), line("B", "900.00", None, "LN-0001")], "t")
    with store.reading() as session:
        paid = session.scalars(select(Installment).order_by(Installment.seq)).all()
        assert [i.status for i in paid] == [InstallmentStatus.PAID] * 3
        assert session.scalar(select(RepaymentPlan.status)) is PlanStatus.COMPLETED


def test_settlement_after_date_plus_grace_is_idempotent(store):
    with store.session() as session:
        ids = seed(session)
        # LN-0002 pays 100 (partly kept); LN-0003 pays 300 after the deadline (broken)
        import_statement(session, [line("P1", "100.00", None, "LN-0002", day=11),
                                   line("P2", "300.00", None, "LN-0003", day=20)], "t")
    with store.session() as session:
        assert settle_promises(session, datetime(2026, 3, 13, 12), 3, "job") == {}  # within grace
    with store.session() as session:
        counts = settle_promises(session, datetime(2026, 3, 21, 12), 3, "job")
    assert counts == {PromiseStatus.PARTLY_KEPT: 1, PromiseStatus.BROKEN: 1}
    with store.session() as session:
        assert settle_promises(session, datetime(2026, 4, 1), 3, "job") == {}
    with store.reading() as session:
        status = dict(session.execute(select(Promise.account_id, Promise.status)).all())
        assert status == {ids["LN-0002"]: PromiseStatus.PARTLY_KEPT, ids["LN-0003"]: PromiseStatus.BROKEN}
        assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "promise.settle")).all()) == 2
        assert set(session.scalars(select(StatementLineRow.status))) == {LineStatus.MATCHED}


def test_a_promise_made_on_a_new_york_evening_counts_that_evenings_payment(store):
    """Made at 20:00 in New York on 2 March (01:00 UTC on the 3rd) for the 2nd, and paid on the 2nd: kept. The
    payment is dated by the debtor's day, so the promise must be too (by UTC it was made after the payment)."""
    with store.session() as session:
        debtor = Debtor(external_ref="d-ny", full_name="Pat Doe")
        session.add(debtor)
        session.flush()
        session.add(Address(debtor_id=debtor.id, country="US", timezone="America/New_York"))
        account = Account(debtor_id=debtor.id, creditor="Acme", account_ref="NY-1", product=Product.CONSUMER_LOAN,
                          currency="USD", principal=Decimal("500"), balance=Decimal("500"),
                          overdue_amount=Decimal("0"), jurisdiction="US")
        session.add(account)
        session.flush()
        session.add(Promise(account_id=account.id, amount=Decimal("100"), promised_for=date(2026, 3, 2),
                            source=Source.AGENT, created_at=datetime(2026, 3, 3, 1, tzinfo=timezone.utc)))
        import_statement(session, [StatementLine(StatementSource.BANK, 2, "NY-P1", datetime(2026, 3, 2, 21),
                                                 Decimal("100.00"), None, "NY-1")], "t")
    with store.session() as session:
        assert settle_promises(session, datetime(2026, 3, 10, 12, tzinfo=timezone.utc), 3, "job") == \
            {PromiseStatus.KEPT: 1}


def test_grace_comes_per_jurisdiction_and_an_unlisted_one_gets_the_longest(store):
    with store.session() as session:
        seed(session)  # two CN promises for 10 March
    with store.session() as session:  # 12 March: past the deadline with no grace, within it with 3 days
        assert settle_promises(session, datetime(2026, 3, 12, 12), {"US": 0, "UK": 3}, "job") == {}
    with store.session() as session:
        assert settle_promises(session, datetime(2026, 3, 12, 12), {"CN": 0, "UK": 3}, "job") == \
            {PromiseStatus.BROKEN: 2}
