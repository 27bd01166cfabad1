"""The gate against a real case store: facts come from attempts and holds in the database."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from campaigns import attempts
from cases import Store
from cases.models import (
    Account,
    Address,
    Attempt,
    AttemptOutcome,
    Debtor,
    HoldKind,
    Phone,
    PhoneKind,
    PhoneOwner,
    Product,
)
from compliance import CampaignFacts, ComplianceGate, HoldError, import_dnc, place_hold, release_hold
from tests.compliance.factories import utc

NOW = utc(2026, 11, 28, 6)  # 14:00 in Beijing
CAMPAIGN = CampaignFacts(campaign_id=1)


def seed(store: Store, jurisdiction: str = "CN") -> tuple[int, int, int, int]:
    """A debtor with two accounts, a mobile and a reference contact; returns ids."""
    with store.session() as session:
        debtor = Debtor(external_ref="D1", full_name="王伟")
        debtor.addresses.append(Address(region="广东", country="CN", timezone="Asia/Shanghai"))
        debtor.phones.append(Phone(e164="+8613812345678", kind=PhoneKind.MOBILE, consent_automated=True))
        debtor.phones.append(Phone(e164="+8613900001111", kind=PhoneKind.MOBILE, owner=PhoneOwner.REFERENCE, priority=1))
        session.add(debtor)
        session.flush()
        accounts = [Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"A{i}", product=Product.CREDIT_CARD,
                            currency="CNY", principal=Decimal(100), balance=Decimal(100), overdue_amount=Decimal(100),
                            jurisdiction=jurisdiction) for i in (1, 2)]
        session.add_all(accounts)
        session.flush()
        return accounts[0].id, accounts[1].id, debtor.phones[0].id, debtor.phones[1].id


def add_attempts(store: Store, account_id: int, number: str, times: list, **values) -> None:  # type: ignore[no-untyped-def]
    with store.session() as session:
        for at in times:
            session.add(Attempt(account_id=account_id, number_e164=number, started_at=at, **values))


def test_counters_come_from_the_attempts_table(store: Store) -> None:
    account, other_account, mobile, _ = seed(store)
    gate = ComplianceGate(store)
    assert gate.check(account, mobile, NOW, CAMPAIGN).allowed
    # Three conversations today across both of the debtor's accounts reach the CN daily cap.
    add_attempts(store, other_account, "+8613812345678", [NOW - timedelta(hours=h) for h in (1, 2, 3)],
                 outcome=AttemptOutcome.ANSWERED, conversation=True, answered_at=NOW)
    decision = gate.check(account, mobile, NOW, CAMPAIGN)
    assert not decision.allowed and decision.next_allowed_at == utc(2026, 11, 29, 0)
    assert decision.receipt["pack"]["name"] == "CN"


def test_a_call_in_flight_blocks_a_second_dial(store: Store) -> None:
    account, _, mobile, _ = seed(store)
    add_attempts(store, account, "+8613812345678", [NOW - timedelta(seconds=5)])  # outcome in_flight
    decision = ComplianceGate(store).check(account, mobile, NOW, CAMPAIGN)
    assert not decision.allowed and "in flight" in decision.reasons[0]


def test_holds_by_scope(store: Store) -> None:
    account, other_account, mobile, _ = seed(store)
    gate = ComplianceGate(store)
    with store.session() as session:
        dispute = place_hold(session, kind=HoldKind.DISPUTE, actor="t", source="agent", account_id=other_account,
                             starts_at=NOW - timedelta(days=1))
    assert gate.check(account, mobile, NOW, CAMPAIGN).allowed  # a dispute holds only its own debt
    assert not gate.check(other_account, mobile, NOW, CAMPAIGN).allowed
    with store.session() as session:
        release_hold(session, dispute.id, actor="t")
        place_hold(session, kind=HoldKind.CEASE, actor="t", source="ivr", debtor_id=1, starts_at=NOW - timedelta(days=1))
    assert not gate.check(account, mobile, NOW, CAMPAIGN).allowed
    assert not gate.check(other_account, mobile, NOW, CAMPAIGN).allowed


def test_imported_dnc_list_blocks_the_number(store: Store) -> None:
    account, _, mobile, _ = seed(store)
    with store.session() as session:
        added, problems = import_dnc(session, ["138 1234 5678", "not a number", "# comment"], region="CN",
                                     actor="t", source="national DNC 2026-11", starts_at=NOW - timedelta(days=1))
    assert added == 1 and len(problems) == 1 and "line 2" in problems[0]
    decision = ComplianceGate(store).check(account, mobile, NOW, CAMPAIGN)
    assert not decision.allowed and "dnc (number)" in decision.reasons[0]


def test_reference_contact_only_after_the_debtor_proves_unreachable(store: Store) -> None:
    account, _, _, reference = seed(store)
    gate = ComplianceGate(store)
    assert not gate.check(account, reference, NOW, CAMPAIGN).allowed
    add_attempts(store, account, "+8613812345678", [NOW - timedelta(days=1, minutes=m) for m in range(6)],
                 outcome=AttemptOutcome.NO_ANSWER)
    assert gate.check(account, reference, NOW, CAMPAIGN).allowed


def test_fail_closed_on_bad_data_and_dead_database(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    account, _, mobile, _ = seed(store, jurisdiction="XX")
    decision = ComplianceGate(store).check(account, mobile, NOW, CAMPAIGN)
    assert not decision.allowed and "no rule pack" in decision.reasons[0] and decision.receipt["error"]
    assert not ComplianceGate(store).check(account, 999, NOW, CAMPAIGN).allowed
    dead = Store(f"sqlite:///{tmp_path / 'missing' / 'nothing.db'}")  # no tables at all
    decision = ComplianceGate(dead).check(account, mobile, NOW, CAMPAIGN)
    assert not decision.allowed and decision.reasons[0].startswith("gate error")


def test_hold_validation() -> None:
    with pytest.raises(HoldError, match="scope"):
        place_hold(None, kind=HoldKind.CEASE, actor="t", source="x")  # type: ignore[arg-type]
    with pytest.raises(HoldError, match="schedule"):
        place_hold(None, kind=HoldKind.NO_CALL_TIMES, actor="t", source="x", debtor_id=1)  # type: ignore[arg-type]


def test_batch_decisions_match_single_ones(store: Store) -> None:
    account, other_account, mobile, reference = seed(store)
    gate = ComplianceGate(store)
    pairs = [(account, mobile), (other_account, mobile), (account, reference)]
    batch = gate.check_many(pairs, NOW, CAMPAIGN)
    single = [gate.check(a, p, NOW, CAMPAIGN) for a, p in pairs]
    assert [d.allowed for d in batch] == [d.allowed for d in single] == [True, True, False]
    with store.session() as session:
        assert session.execute(select(Account.id)).scalars().all()


def test_claim_writes_the_attempt_with_its_receipt_and_serialises_caps(store: Store) -> None:
    account, _, mobile, _ = seed(store)
    gate = ComplianceGate(store)
    decision, attempt_id = attempts.claim(store, gate, account, mobile, NOW, CAMPAIGN)
    assert decision.allowed and attempt_id is not None
    with store.session() as session:
        stored = session.get(Attempt, attempt_id)
        assert stored.outcome is AttemptOutcome.IN_FLIGHT and stored.receipt == decision.receipt
    again, second = attempts.claim(store, gate, account, mobile, NOW + timedelta(seconds=1), CAMPAIGN)
    assert not again.allowed and second is None  # the first claim is in flight


def test_calls_to_the_same_number_for_another_debtor_count(store: Store) -> None:
    account, _, mobile, _ = seed(store)
    with store.session() as session:
        other = Debtor(external_ref="D2", full_name="王芳")
        other.phones.append(Phone(e164="+8613812345678", kind=PhoneKind.MOBILE))  # a shared family phone
        session.add(other)
        session.flush()
        theirs = Account(debtor_id=other.id, creditor="Acme", account_ref="B1", product=Product.CREDIT_CARD,
                         currency="CNY", principal=Decimal(50), balance=Decimal(50), overdue_amount=Decimal(50),
                         jurisdiction="CN")
        session.add(theirs)
        session.flush()
        their_account = theirs.id
    add_attempts(store, their_account, "+8613812345678", [NOW - timedelta(minutes=10 * m) for m in range(1, 7)],
                 outcome=AttemptOutcome.NO_ANSWER)
    decision = ComplianceGate(store).check(account, mobile, NOW, CAMPAIGN)
    assert not decision.allowed and "unanswered" in decision.reasons[0]
