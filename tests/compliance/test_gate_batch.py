"""The batch path (`check_many`, used by lead selection) and the single path (`check`) decide alike.

A varied population — holds of every kind and scope, caps reached, windows closed, third parties,
unknown zones, missing consent, bad pairs — is asked both ways: every decision, receipt included, must be
equal, and the population must really exercise each of those refusals.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event

from cases import Store, migrate
from cases.models import (
    Account,
    AccountStatus,
    Address,
    Attempt,
    AttemptOutcome,
    Debtor,
    HoldKind,
    Phone,
    PhoneKind,
    PhoneOwner,
    PhoneStatus,
    Product,
)
from compliance import CampaignFacts, ComplianceGate, place_hold, release_hold
from compliance.decision import Decision
from tests.compliance.factories import utc

NOW = utc(2026, 11, 28, 6)  # 14:00 in Beijing, 01:00 in New York, 06:00 in London
CAMPAIGN = CampaignFacts(campaign_id=1)
TIGHTENED = CampaignFacts(campaign_id=2, overrides={"calling_window": {"start": "09:00", "end": "14:30"}})


class Population:
    """Builds debtors with accounts, phones, attempts and holds; remembers every pair worth asking about."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pairs: list[tuple[int, int]] = []
        self.count = 0

    def debtor(self, jurisdiction: str, phones: list[dict[str, Any]], *, zone: str | None = "Asia/Shanghai",
               accounts: int = 1, status: AccountStatus = AccountStatus.OPEN) -> tuple[int, list[int], list[int]]:
        """(debtor id, account ids, phone ids); every account is paired with every phone."""
        self.count += 1
        with self.store.session() as session:
            debtor = Debtor(external_ref=f"D{self.count}", full_name=f"debtor {self.count}")
            if zone is not None:
                debtor.addresses.append(Address(country=jurisdiction[:2], timezone=zone))
            for values in phones:
                debtor.phones.append(Phone(**{"kind": PhoneKind.MOBILE, "consent_automated": True, **values}))
            session.add(debtor)
            session.flush()
            made = [Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"A{self.count}-{i}",
                            product=Product.CREDIT_CARD, currency="CNY", principal=Decimal(100), balance=Decimal(100),
                            overdue_amount=Decimal(100), jurisdiction=jurisdiction, status=status)
                    for i in range(accounts)]
            session.add_all(made)
            session.flush()
            account_ids, phone_ids = [a.id for a in made], [p.id for p in debtor.phones]
            debtor_id = debtor.id
        self.pairs += [(a, p) for a in account_ids for p in phone_ids]
        return debtor_id, account_ids, phone_ids

    def attempts(self, account_id: int, number: str, ages: list[timedelta], outcome: AttemptOutcome,
                 conversation: bool = False) -> None:
        answered = outcome in (AttemptOutcome.ANSWERED, AttemptOutcome.ABANDONED)
        with self.store.session() as session:
            session.add_all(Attempt(account_id=account_id, number_e164=number, started_at=NOW - age, outcome=outcome,
                                    answered_at=NOW - age + timedelta(seconds=9) if answered else None,
                                    conversation=conversation) for age in ages)

    def hold(self, kind: HoldKind, *, released: bool = False, **scope: Any) -> None:
        scope.setdefault("starts_at", NOW - timedelta(days=2))
        with self.store.session() as session:
            hold = place_hold(session, kind=kind, actor="t", source="test", **scope)
            if released:
                release_hold(session, hold.id, actor="t")


def build(store: Store) -> list[tuple[int, int]]:
    people = Population(store)
    hours, days = (lambda n: timedelta(hours=n)), (lambda n: timedelta(days=n))
    # CN: one allowed; a debtor at the daily conversation cap over two accounts; a number at its unanswered cap.
    people.debtor("CN", [{"e164": "+8613800000001"}, {"e164": "+8613800000002", "kind": PhoneKind.HOME}])
    _, (talked, _), _ = people.debtor("CN", [{"e164": "+8613800000011"}], accounts=2)
    people.attempts(talked, "+8613800000011", [hours(1), hours(2), hours(3)], AttemptOutcome.ANSWERED, True)
    _, (missed,), _ = people.debtor("CN", [{"e164": "+8613800000021"}])
    people.attempts(missed, "+8613800000021", [hours(h) for h in range(1, 7)], AttemptOutcome.NO_ANSWER)
    # CN third parties: reference and guarantor while the debtor is reachable; a reference once they are not.
    people.debtor("CN", [{"e164": "+8613800000031"}, {"e164": "+8613800000032", "owner": PhoneOwner.REFERENCE},
                         {"e164": "+8613800000033", "owner": PhoneOwner.GUARANTOR}])
    _, (gone,), _ = people.debtor("CN", [{"e164": "+8613800000041"},
                                         {"e164": "+8613800000042", "owner": PhoneOwner.REFERENCE}])
    people.attempts(gone, "+8613800000041", [days(1) + timedelta(minutes=m) for m in range(6)], AttemptOutcome.NO_ANSWER)
    # A call in flight; a closed account; a number flagged DNC; a disconnected number; a shared family number
    # called for someone else's debt.
    _, (busy,), _ = people.debtor("CN", [{"e164": "+8613800000051"}])
    people.attempts(busy, "+8613800000051", [timedelta(seconds=5)], AttemptOutcome.IN_FLIGHT)
    people.debtor("CN", [{"e164": "+8613800000061"}], status=AccountStatus.CLOSED)
    people.debtor("CN", [{"e164": "+8613800000071", "dnc": True},
                         {"e164": "+8613800000072", "status": PhoneStatus.DISCONNECTED}])
    people.debtor("CN", [{"e164": "+8613800000081"}])
    _, (relative,), _ = people.debtor("CN", [{"e164": "+8613800000081"}])
    people.attempts(relative, "+8613800000081", [hours(1), hours(2)], AttemptOutcome.ANSWERED, True)
    # Holds of every kind and scope, plus one released and one not yet started.
    debtor, (account,), (phone,) = people.debtor("CN", [{"e164": "+8613800000091"}])
    people.hold(HoldKind.CEASE, debtor_id=debtor)
    _, (account,), _ = people.debtor("CN", [{"e164": "+8613800000101"}])
    people.hold(HoldKind.DISPUTE, account_id=account, ends_at=NOW + days(3))
    _, _, (phone,) = people.debtor("CN", [{"e164": "+8613800000111"}])
    people.hold(HoldKind.DECEASED, phone_id=phone)
    people.debtor("CN", [{"e164": "+8613800000121"}])
    people.hold(HoldKind.DNC, e164="+8613800000121")
    debtor, _, _ = people.debtor("CN", [{"e164": "+8613800000131"}], accounts=2)
    people.hold(HoldKind.BANKRUPTCY, debtor_id=debtor, ends_at=NOW + days(30))
    _, (account,), _ = people.debtor("CN", [{"e164": "+8613800000141"}])
    people.hold(HoldKind.LEGAL, account_id=account, ends_at=NOW + hours(5))
    people.hold(HoldKind.DISPUTE, account_id=account, ends_at=NOW + days(9))
    _, _, (phone,) = people.debtor("CN", [{"e164": "+8613800000151"}])
    people.hold(HoldKind.CONSENT_REVOKED, phone_id=phone)
    debtor, _, _ = people.debtor("CN", [{"e164": "+8613800000161"}])
    people.hold(HoldKind.NO_CALL_TIMES, debtor_id=debtor, schedule={"start": "13:00", "end": "15:00"})
    debtor, (account,), _ = people.debtor("CN", [{"e164": "+8613800000171"}])
    people.hold(HoldKind.CEASE, debtor_id=debtor, released=True)
    people.hold(HoldKind.DISPUTE, account_id=account, starts_at=NOW + days(1))
    # US: the window is closed in New York; a mobile without consent; a conversation two days ago; seven
    # attempts this week; Florida's 24-hour cap; a number ringing in many zones.
    _, (us,), _ = people.debtor("US", [{"e164": "+12125550101", "consent_automated": False},
                                       {"e164": "+12125550102", "kind": PhoneKind.HOME}], zone="America/New_York")
    people.attempts(us, "+12125550102", [days(2)], AttemptOutcome.ANSWERED, True)
    _, (week,), _ = people.debtor("US", [{"e164": "+13055550111"}], zone="America/Los_Angeles")
    people.attempts(week, "+13055550111", [days(d) + hours(3) for d in range(7)], AttemptOutcome.NO_ANSWER)
    _, (florida,), _ = people.debtor("US-FL", [{"e164": "+13055550121"}], zone="America/New_York")
    people.attempts(florida, "+13055550121", [hours(2), hours(5), hours(9)], AttemptOutcome.BUSY)
    people.debtor("US", [{"e164": "+19005550131"}], zone=None)
    # UK: an abandoned call locks the number out for 72 hours.
    _, (uk,), _ = people.debtor("UK", [{"e164": "+447911123456"}], zone="Europe/London")
    people.attempts(uk, "+447911123456", [hours(10)], AttemptOutcome.ABANDONED)
    # Zones that cannot be established: an address zone no one knows; a number without a zone and no address.
    people.debtor("CN", [{"e164": "+8613800000181"}], zone="Mars/Olympus_Mons")
    people.debtor("CN", [{"e164": "+80012345678"}], zone=None)
    # No rule pack; an account that does not exist; a phone of another debtor.
    _, (stray,), _ = people.debtor("XX", [{"e164": "+8613800000191"}])
    return people.pairs + [(999_999, people.pairs[0][1]), (stray, people.pairs[0][1])]


def whole(decisions: list[Decision]) -> list[tuple[Any, ...]]:
    return [(d.allowed, d.reasons, d.next_allowed_at, d.receipt) for d in decisions]


def failing_rules(decisions: list[Decision]) -> set[str]:
    return {c["rule"] for d in decisions for c in d.receipt["checks"] if not c["passed"]} | \
        {"error" for d in decisions if d.receipt.get("error")}


def test_batch_and_single_paths_give_identical_receipts_for_a_varied_population(store: Store) -> None:
    pairs = build(store)
    gate = ComplianceGate(store)
    for campaign in (CAMPAIGN, TIGHTENED):
        batch = whole(gate.check_many(pairs, NOW, campaign))
        single = whole([gate.check(account, phone, NOW, campaign) for account, phone in pairs])
        assert batch == single
        assert whole(ComplianceGate(store).check_many(pairs[::-1], NOW, campaign)) == single[::-1]
    decisions = gate.check_many(pairs, NOW, CAMPAIGN)
    assert failing_rules(decisions) >= {
        "account_open", "number_callable", "holds", "consent", "third_party", "not_in_flight",
        "abandoned_call_lockout", "attempts_per_debt_24h", "time_zone_known", "calling_window",
        "debtor_no_call_times", "attempts_per_debt_7d", "conversation_cooldown", "conversations_per_debtor_day",
        "unanswered_per_number_day", "error"}
    held = {h["kind"] for d in decisions for c in d.receipt["checks"] if c["rule"] == "holds"
            for h in c["saw"]["active_holds"]}
    assert held == {"cease", "dispute", "deceased", "dnc", "bankruptcy", "legal"}
    assert any(d.allowed for d in decisions) and any(d.next_allowed_at for d in decisions)


def test_a_batch_loads_its_facts_in_a_fixed_number_of_queries(store: Store) -> None:
    pairs = build(store)
    gate = ComplianceGate(store)
    statements: list[str] = []

    def count(*_: Any) -> None:
        statements.append("")

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        gate.check_many(pairs[:2], NOW, CAMPAIGN)
        few = len(statements)
        statements.clear()
        gate.check_many(pairs, NOW, CAMPAIGN)
        assert len(statements) == few
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def test_deciding_never_waits_for_a_writer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Lead selection reads under SQLite's WAL snapshot instead of queueing for the write lock."""
    store = Store(f"sqlite:///{tmp_path / 'cases.db'}")
    migrate.upgrade(store.engine)
    event.listen(store.engine, "connect", lambda connection, _: connection.execute("PRAGMA busy_timeout = 200"))
    people = Population(store)
    _, (account,), (phone,) = people.debtor("CN", [{"e164": "+8613800000001"}])
    with store.session() as writer:  # e.g. the attempt writer, mid-transaction
        writer.add(Attempt(account_id=account, number_e164="+8613800000002", started_at=NOW - timedelta(days=1),
                           outcome=AttemptOutcome.NO_ANSWER))
        writer.flush()
        decision = ComplianceGate(store).check(account, phone, NOW, CAMPAIGN)
    assert decision.allowed, decision.reasons
    store.dispose()


def test_a_batch_keeps_no_receipt_until_one_is_read(store: Store) -> None:
    """Lead selection reads verdicts only; a receipt is written out when read, with the same content."""
    pairs = build(store)
    gate = ComplianceGate(store)
    decisions = gate.check_many(pairs, NOW, CAMPAIGN)
    assert not any("receipt" in vars(d) for d in decisions)
    assert whole(decisions) == whole([gate.check(account, phone, NOW, CAMPAIGN) for account, phone in pairs])
    assert all("receipt" in vars(d) for d in decisions)
