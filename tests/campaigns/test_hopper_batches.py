"""The hopper asks the gate about many cases at once (the batch path), not one case at a time."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select

from campaigns.hopper import Hopper
from campaigns.tallies import hopper_level
from cases import Store
from cases.models import (Account, Address, Attempt, AttemptOutcome, Channel, Debtor, HoldKind, Phone, PhoneKind,
                          Product)
from cases.segments import Segment
from compliance import CampaignFacts, ComplianceGate, place_hold
from tests.compliance.factories import utc

NOW = utc(2026, 11, 28, 6)  # 14:00 in Beijing
TODAY = date(2026, 11, 28)


def seed(store: Store, count: int, first: int = 0) -> list[int]:
    """`count` CN debtors of growing balance, each with a mobile; every third one has a cease hold."""
    ids = []
    with store.session() as session:
        for i in range(first, first + count):
            debtor = Debtor(external_ref=f"D{i}", full_name=f"debtor {i}")
            debtor.addresses.append(Address(country="CN", timezone="Asia/Shanghai"))
            debtor.phones.append(Phone(e164=f"+86138{i:08d}", kind=PhoneKind.MOBILE, consent_automated=True))
            session.add(debtor)
            session.flush()
            account = Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"A{i}", product=Product.CREDIT_CARD,
                              currency="CNY", principal=Decimal(100 + i), balance=Decimal(100 + i),
                              overdue_amount=Decimal(100 + i), due_date=TODAY - timedelta(days=60), jurisdiction="CN")
            session.add(account)
            session.flush()
            if i % 3 == 0:
                place_hold(session, kind=HoldKind.CEASE, actor="t", source="test", debtor_id=debtor.id,
                           starts_at=NOW - timedelta(days=1))
            ids.append(account.id)
    return ids


def leads_and_statements(store: Store, limit: int) -> tuple[list[int], int]:
    hopper = Hopper(store, ComplianceGate(store), Segment(jurisdictions=("CN",)), CampaignFacts(campaign_id=1))
    statements: list[str] = []

    def count(*_: Any) -> None:
        statements.append("")

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        leads = hopper.leads(NOW, limit, today=TODAY)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return [lead.account_id for lead in leads], len(statements)


def test_the_hopper_asks_the_gate_about_many_cases_in_one_batch(store: Store) -> None:
    ids = seed(store, 4)
    few, few_statements = leads_and_statements(store, 40)
    assert few == [ids[2], ids[1]]  # biggest balance first; the held ones are not leads
    more = seed(store, 40, first=4)
    many, many_statements = leads_and_statements(store, 40)
    assert len(many) == 2 + 27 and many[0] == more[-1]
    assert many_statements == few_statements  # the number of queries does not grow with the cases


def test_the_hopper_stops_asking_once_it_has_enough_leads(store: Store) -> None:
    ids = seed(store, 6)
    leads, _ = leads_and_statements(store, 1)
    assert leads == [ids[5]]


def test_a_message_sent_after_a_call_does_not_end_the_calls_rest(store: Store) -> None:
    """The rest after an unanswered call (RECYCLE_AFTER) runs from the last *call*: an SMS sent since is not a
    dial, so it neither ends the rest early nor starts a new one."""
    ids = seed(store, 6)
    first, second, fourth = ids[1], ids[2], ids[4]  # every third debtor has a cease hold
    with store.session() as session:
        for account in (first, second):
            phone = session.scalars(select(Phone.id).join(Debtor, Debtor.id == Phone.debtor_id)
                                    .join(Account, Account.debtor_id == Debtor.id).where(Account.id == account)).one()
            session.add(Attempt(account_id=account, phone_id=phone, number_e164="+8613800000000",
                                started_at=NOW - timedelta(minutes=30), ended_at=NOW - timedelta(minutes=29),
                                outcome=AttemptOutcome.NO_ANSWER))
        session.add(Attempt(account_id=first, number_e164="+8613800000000", started_at=NOW - timedelta(minutes=5),
                            outcome=AttemptOutcome.MESSAGE, channel=Channel.SMS, delivery="delivered"))
        session.add(Attempt(account_id=fourth, number_e164="+8613800000000", started_at=NOW - timedelta(minutes=5),
                            outcome=AttemptOutcome.MESSAGE, channel=Channel.SMS, delivery="delivered"))
    leads, _ = leads_and_statements(store, 10)
    assert first not in leads and second not in leads  # both still resting after their unanswered call
    assert fourth in leads  # a message alone is no call to rest from
    with store.session() as session:  # the wallboard's hopper level counts them the same way
        assert hopper_level(session, Segment(jurisdictions=("CN",)), NOW) == len(ids) - 2  # the 2 resting (holds: the gate's)
