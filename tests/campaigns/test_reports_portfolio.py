"""The DPD snapshot job and the portfolio reports (roll, cure, recovery, liquidation) against a hand-counted
book, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from campaigns.reports import ReportTable, Window, run_report
from campaigns.reports.snapshot import take_snapshot
from cases import Store
from cases.models import Account, AccountStatus, DpdSnapshot, Payment, PaymentChannel
from tests.campaigns.assignment_seed import add_case


def day(n: int) -> date:
    return date(2026, 11, n)


def snapshot(store: Store, on: date) -> int:
    with store.engine.begin() as connection:
        return take_snapshot(connection, on)


def change(store: Store, account_id: int, **values: object) -> None:
    with store.session() as session:
        account = session.get(Account, account_id)
        assert account is not None
        for name, value in values.items():
            setattr(account, name, value)


def pay(store: Store, account_id: int, amount: str, on: date, ref: str) -> None:
    with store.session() as session:
        session.add(Payment(account_id=account_id, amount=Decimal(amount), paid_on=on,
                            channel=PaymentChannel.BANK_TRANSFER, external_ref=ref))


@pytest.fixture
def book(store: Store) -> Store:
    """Due dates (the seed's today is 11-28): A 11-18, B and E 10-14, C 08-20, D 10-29.

    11-01: A current, B 1-30 (18 days), C 61-90 (73), E 1-30 (18); D is placed after it.
    11-10: A current, B 1-30, C 61-90, D 1-30 (12), E 1-30.
    B pays 500 on 11-15 and is current again; C pays 500 on 11-20 and is paid off; D pays 100 on 11-25;
    A's 50 on 10-30 is before every window.
    11-30: A 1-30 (12), B current, D 31-60 (32), E 31-60 (47); C is out of the book.
    """
    a = add_case(store, "A", dpd=10, balance="1000")
    b = add_case(store, "B", dpd=45, balance="2000", creditor="Beta", region="上海")
    c = add_case(store, "C", dpd=100, balance="500")
    add_case(store, "E", dpd=45, balance="700")
    assert snapshot(store, day(1)) == 4
    assert snapshot(store, day(1)) == 0  # once per day
    d = add_case(store, "D", dpd=30, balance="400")
    assert snapshot(store, day(10)) == 5
    pay(store, a, "50", date(2026, 10, 30), "a1")
    pay(store, b, "500", day(15), "b1")
    change(store, b, balance=Decimal("1500"), overdue_amount=Decimal("0"))
    pay(store, c, "500", day(20), "c1")
    change(store, c, balance=Decimal("0"), status=AccountStatus.PAID)
    pay(store, d, "100", day(25), "d1")
    change(store, d, balance=Decimal("300"))
    assert snapshot(store, day(30)) == 4
    return store


def report(store: Store, name: str, first: date = day(1), last: date = day(30), **window: object) -> ReportTable:
    with store.engine.connect() as connection:
        return run_report(connection, name, Window(first, last, **window))  # type: ignore[arg-type]


def test_the_snapshot_holds_buckets_and_balances(book: Store) -> None:
    with book.engine.connect() as connection:
        rows = connection.execute(select(DpdSnapshot.day, Account.account_ref, DpdSnapshot.dpd_bucket,
                                         DpdSnapshot.balance).join(Account, Account.id == DpdSnapshot.account_id)
                                  .order_by(DpdSnapshot.day, Account.account_ref)).all()
        assert connection.scalar(select(func.count()).select_from(DpdSnapshot)) == 13
        placed = connection.execute(select(DpdSnapshot.day, Account.account_ref).join(
            Account, Account.id == DpdSnapshot.account_id).where(DpdSnapshot.placed.is_(True))
            .order_by(Account.account_ref)).all()
    assert [(str(r[0]), r[1]) for r in placed] == [("2026-11-01", "A"), ("2026-11-01", "B"), ("2026-11-01", "C"),
                                                   ("2026-11-10", "D"), ("2026-11-01", "E")]
    assert [(str(r[0]), r[1], r[2], r[3]) for r in rows if r[0] == day(30)] == [
        ("2026-11-30", "A", "1-30", Decimal("1000")), ("2026-11-30", "B", "current", Decimal("1500")),
        ("2026-11-30", "D", "31-60", Decimal("300")), ("2026-11-30", "E", "31-60", Decimal("700"))]
    assert [(r[1], r[2]) for r in rows if r[0] == day(1)] == [
        ("A", "current"), ("B", "1-30"), ("C", "61-90"), ("E", "1-30")]


def test_roll_rates_between_the_first_and_last_day(book: Store) -> None:
    assert [tuple(r.values()) for r in report(book, "roll-rates").records()] == [
        ("current", "1-30", 1, 1.0), ("1-30", "current", 1, 0.5), ("1-30", "31-60", 1, 0.5),
        ("61-90", "closed", 1, 1.0)]
    assert [tuple(r.values()) for r in report(book, "roll-rates", by="creditor").records()] == [
        ("Acme", "current", "1-30", 1, 1.0), ("Acme", "1-30", "31-60", 1, 1.0), ("Acme", "61-90", "closed", 1, 1.0),
        ("Beta", "1-30", "current", 1, 1.0)]
    with pytest.raises(ValueError, match="takes no period"):
        report(book, "roll-rates", period="day")


def test_cure_rate(book: Store) -> None:
    assert report(book, "cure-rate").records() == [{"delinquent": 3, "cured": 1, "closed": 1, "cure_rate": 1 / 3}]
    assert [tuple(r.values()) for r in report(book, "cure-rate", by="dpd").records()] == [
        ("1-30", 2, 1, 0, 0.5), ("61-90", 1, 0, 1, 0.0)]
    assert report(book, "cure-rate", first=day(2)).records() == [
        {"delinquent": 0, "cured": 0, "closed": 0, "cure_rate": None}]  # no snapshot on 11-02


def test_recovery_rate_follows_what_was_placed_in_the_window(book: Store) -> None:
    assert report(book, "recovery-rate").records() == [
        {"accounts": 5, "placed_balance": Decimal("4600.00"), "collected": Decimal("1100.00"),
         "recovery_rate": 1100 / 4600}]
    assert report(book, "recovery-rate", first=day(5)).records() == [  # only D was placed after 11-05
        {"accounts": 1, "placed_balance": Decimal("400.00"), "collected": Decimal("100.00"), "recovery_rate": 0.25}]
    assert [(r["group"], r["accounts"], r["collected"]) for r in report(book, "recovery-rate", by="dpd").records()
            ] == [("1-30", 3, Decimal("600.00")), ("61-90", 1, Decimal("500.00")), ("current", 1, Decimal("0.00"))]


def test_liquidation_rate_over_opening_book_and_new_placements(book: Store) -> None:
    assert report(book, "liquidation-rate").records() == [
        {"opening_balance": Decimal("4200.00"), "new_placements": Decimal("400.00"), "collected": Decimal("1100.00"),
         "liquidation_rate": 1100 / 4600}]
    late = report(book, "liquidation-rate", first=day(16)).records()
    assert late == [{"opening_balance": Decimal("0.00"), "new_placements": Decimal("0.00"),
                     "collected": Decimal("0.00"), "liquidation_rate": None}]  # no snapshot on 11-16
    assert [tuple(r.values()) for r in report(book, "liquidation-rate", first=day(10), by="region").records()] == [
        ("上海", Decimal("2000.00"), Decimal("0.00"), Decimal("500.00"), 0.25),
        ("北京", Decimal("2600.00"), Decimal("0.00"), Decimal("600.00"), 600 / 2600)]


def test_drill_down_lists_the_accounts_of_a_group_in_the_book(book: Store) -> None:
    from campaigns.reports.drill import cases_behind

    with book.engine.connect() as connection:
        beta = cases_behind(connection, "roll-rates", Window(day(1), day(30), by="creditor"), None, "Beta")
        late = cases_behind(connection, "cure-rate", Window(day(1), day(30), by="dpd"), None, "31-60")
    assert [case.account_ref for case in beta] == ["B"]
    assert [case.account_ref for case in late] == ["E", "D"]  # 31-60 in a snapshot of the window; by account id
