"""Retention of attempt rows and closed cases over a real case store (SQLite and PostgreSQL), with the job's
clock injected: expired calls and messages go with their notes and findings while a promise made on one stays;
closed cases go with everything on them and their debtor once no account of theirs is left; legal and dispute
holds keep their own; a dry run reports what the run then does and changes nothing; every batch is in the
destruction log and the intact audit chain with the law it applied; a second run destroys nothing more."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from campaigns.destruction import Destruction, RetentionReport, RowsDestroyed
from cases import Store
from cases.audit import verify_chain
from cases.models import (Account, AccountStatus, Address, Attempt, AttemptOutcome, AuditEntry, Channel, Debtor,
                          DestructionLog, Hold, HoldKind, Installment, Note, Payment, PaymentChannel, Phone, Product,
                          Promise, RepaymentPlan, ScreeningFinding, ScreeningReview, Source)
from cases.models.payments import LineStatus, StatementLineRow
from compliance.holds import place_hold
from recordings.retention import RecordKind, load_policies, parse_policies
from tests.recordings.test_sealed import tone_recording

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def debtor(store: Store) -> tuple[int, int, str]:
    """A debtor with one phone and an address; (debtor, phone, number)."""
    number = f"+1202555{uuid.uuid4().int % 10000:04d}"
    with store.session() as session:
        row = Debtor(external_ref=f"D-{uuid.uuid4().hex[:8]}", full_name="Pat Doe", created_at=T0, updated_at=T0)
        row.phones.append(Phone(e164=number))
        row.addresses.append(Address(line1="1 Main St", country="US"))
        session.add(row)
        session.flush()
        return row.id, row.phones[0].id, number


def account(store: Store, debtor_id: int, jurisdiction: str, status: AccountStatus = AccountStatus.OPEN,
            closed_at: datetime = T0) -> int:
    """An account whose row last changed at `closed_at` (what a closed case's period runs from)."""
    with store.session() as session:
        row = Account(debtor_id=debtor_id, creditor="Acme", account_ref=f"A-{uuid.uuid4().hex[:8]}",
                      product=Product.CREDIT_CARD, currency="USD", principal=Decimal(100), balance=Decimal(0),
                      overdue_amount=Decimal(0), jurisdiction=jurisdiction, status=status, created_at=T0,
                      updated_at=closed_at)
        session.add(row)
        session.flush()
        return row.id


def attempt(store: Store, account_id: int, phone_id: int, number: str, pack: str, at: datetime, *,
            channel: Channel = Channel.CALL, recording: Path | None = None) -> int:
    with store.session() as session:
        message = channel is not Channel.CALL
        row = Attempt(account_id=account_id, phone_id=phone_id, number_e164=number, started_at=at,
                      ended_at=at + timedelta(seconds=30), channel=channel,
                      outcome=AttemptOutcome.MESSAGE if message else AttemptOutcome.ANSWERED,
                      message_text="请于今日还款" if message else None, delivery="delivered" if message else None,
                      recording_path=str(recording) if recording else None,
                      receipt={"pack": {"name": pack, "version": "1"}, "subject": {"number": "+1202***"}})
        session.add(row)
        session.flush()
        return row.id


def on_the_call(store: Store, account_id: int, attempt_id: int, at: datetime) -> None:
    """A note, a reviewed screening finding and a promise made on the call."""
    with store.session() as session:
        session.add(Note(account_id=account_id, attempt_id=attempt_id, body="said they would pay", created_at=at))
        finding = ScreeningFinding(attempt_id=attempt_id, account_id=account_id, category="threat", severity="high",
                                   severity_rank=3, speaker="agent", excerpt="pay or else", source="lexicon",
                                   ruleset="1", created_at=at)
        session.add(finding)
        session.flush()
        session.add(ScreeningReview(finding_id=finding.id, reviewer="qa", decision="false_positive", at=at))
        session.add(Promise(account_id=account_id, attempt_id=attempt_id, amount=Decimal(50),
                            promised_for=date(2026, 1, 20), source=Source.AGENT, created_at=at))


def money(store: Store, account_id: int, at: datetime) -> None:
    """A plan with an instalment, a payment with its statement line."""
    with store.session() as session:
        plan = RepaymentPlan(account_id=account_id, total_amount=Decimal(100), installment_count=1,
                             source=Source.AGENT, created_at=at)
        plan.installments.append(Installment(seq=1, due_date=date(2026, 2, 1), amount=Decimal(100)))
        payment = Payment(account_id=account_id, amount=Decimal(100), paid_on=date(2026, 2, 1),
                          channel=PaymentChannel.BANK_TRANSFER, external_ref=uuid.uuid4().hex[:10], created_at=at)
        session.add_all([plan, payment])
        session.flush()
        session.add(StatementLineRow(source="bank", txn_id=uuid.uuid4().hex[:10], paid_at=at.replace(tzinfo=None),
                                     amount=Decimal(100), payer_name="PAT DOE", status=LineStatus.MATCHED,
                                     rule="reference", account_id=account_id, payment_id=payment.id))


def rows(store: Store, model: Any, **where: Any) -> int:
    with store.reading() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


def batches(report: RetentionReport) -> list[RowsDestroyed]:
    return sorted(report.rows, key=lambda batch: (batch.kind, batch.jurisdiction))


def test_expired_calls_and_messages_go_with_their_notes_and_findings_while_a_legal_hold_keeps_its_own(
        store: Store) -> None:
    debtor_id, phone_id, number = debtor(store)
    account_id = account(store, debtor_id, "CN")
    old_call = attempt(store, account_id, phone_id, number, "CN", T0)
    old_sms = attempt(store, account_id, phone_id, number, "CN", T0 + DAY, channel=Channel.SMS)
    recent = attempt(store, account_id, phone_id, number, "CN", T0 + 600 * DAY)
    on_the_call(store, account_id, old_call, T0)
    held_debtor, held_phone, held_number = debtor(store)
    held_account = account(store, held_debtor, "CN")
    held = attempt(store, held_account, held_phone, held_number, "CN", T0)
    with store.session() as session:
        place_hold(session, kind=HoldKind.LEGAL, actor="counsel", source="litigation", debtor_id=held_debtor,
                   starts_at=T0)
    job = Destruction(store, load_policies(), actor="retention (admin)")

    assert job.run(T0 + 730 * DAY).rows == []  # CN: at least 2 years (731 days) from the call
    now = T0 + 732 * DAY
    dry = job.run(now, dry_run=True)
    expected = [RowsDestroyed(RecordKind.ATTEMPTS, "CN", 2, {"call/answered": 1, "sms/message": 1})]
    assert batches(dry) == expected and dry.held == {held}
    assert rows(store, Attempt) == 4 and rows(store, Note) == 1 and rows(store, DestructionLog) == 0
    assert rows(store, AuditEntry, action="retention.run") == 0  # a dry run records nothing

    report = job.run(now)
    assert batches(report) == expected and report.held == {held}
    with store.reading() as session:
        assert set(session.scalars(select(Attempt.id))) == {recent, held}
        assert session.scalar(select(Promise.attempt_id)) is None  # the promise is the case's: it stays
    for model in (Note, ScreeningFinding, ScreeningReview):
        assert rows(store, model) == 0
    assert rows(store, Promise) == 1 and old_sms not in (recent, held)
    with store.reading() as session:
        log = session.scalars(select(DestructionLog)).one()
        assert (log.kind, log.jurisdiction, log.count, log.tally, log.keep_days) == (
            "attempts", "CN", 2, {"call/answered": 1, "sms/message": 1}, 731)
        assert "第六十八条" in log.source and log.run_at == now and log.actor == "retention (admin)"
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.destroyed")).one()
        assert (audit.entity, audit.entity_id) == ("destruction_log", str(log.id))
        assert audit.details["count"] == 2 and audit.details["from"] == "call"
        assert verify_chain(session).intact

    again = job.run(now + DAY)  # nothing more to do: a re-run changes nothing
    assert again.rows == [] and again.held == {held}
    assert rows(store, DestructionLog) == 1 and rows(store, Attempt) == 2


def test_a_us_attempt_runs_from_the_accounts_last_activity(store: Store) -> None:
    debtor_id, phone_id, number = debtor(store)
    account_id = account(store, debtor_id, "US")
    first = attempt(store, account_id, phone_id, number, "US-FL", T0)
    attempt(store, account_id, phone_id, number, "US-FL", T0 + 400 * DAY)
    job = Destruction(store, load_policies())
    assert job.run(T0 + 1100 * DAY).rows == []  # Reg F: 3 years after the last collection activity
    report = job.run(T0 + (400 + 1097) * DAY)
    assert batches(report) == [RowsDestroyed(RecordKind.ATTEMPTS, "US", 2, {"call/answered": 2})]
    assert rows(store, Attempt, id=first) == 0 and rows(store, Account) == 1  # an open case stays


def test_closed_cases_go_with_everything_on_them_and_a_debtor_with_no_account_left(store: Store,
                                                                                   tmp_path: Path) -> None:
    closed_at = T0 + 30 * DAY
    kept_debtor, kept_phone, kept_number = debtor(store)  # one closed account, one still open
    paid = account(store, kept_debtor, "US", AccountStatus.PAID, closed_at)
    still_open = account(store, kept_debtor, "US")
    call = attempt(store, paid, kept_phone, kept_number, "US", closed_at)
    on_the_call(store, paid, call, T0)
    money(store, paid, T0 + 20 * DAY)
    gone_debtor, gone_phone, gone_number = debtor(store)  # only a settled account, with a recorded call
    settled = account(store, gone_debtor, "US-FL", AccountStatus.SETTLED, closed_at)
    wav = tmp_path / "call.wav"
    tone_recording(wav, 1.0)
    recorded = attempt(store, settled, gone_phone, gone_number, "US", closed_at, recording=wav)
    disputed_debtor, _, disputed_number = debtor(store)
    disputed = account(store, disputed_debtor, "US", AccountStatus.CLOSED, closed_at)
    with store.session() as session:
        place_hold(session, kind=HoldKind.CEASE, actor="agent", source="debtor", account_id=paid, starts_at=T0)
        place_hold(session, kind=HoldKind.DNC, actor="agent", source="debtor", e164=gone_number, starts_at=T0)
        place_hold(session, kind=HoldKind.DISPUTE, actor="agent", source="debtor", e164=disputed_number,
                   starts_at=T0)
    job = Destruction(store, load_policies())

    assert job.run(closed_at + 1095 * DAY).rows == []
    now = closed_at + 1097 * DAY
    dry = job.run(now, dry_run=True)
    assert rows(store, Account) == 4 and wav.exists() and rows(store, DestructionLog) == 0
    report = job.run(now)
    expected = [RowsDestroyed(RecordKind.ATTEMPTS, "US", 2, {"call/answered": 2}),  # their period ends first
                RowsDestroyed(RecordKind.CLOSED_CASES, "US", 2, {"accounts": 2, "debtors": 1})]
    assert batches(report) == batches(dry) == expected
    assert report.held_cases == dry.held_cases == {disputed}
    assert [(item.attempt_id, item.kind) for item in report.destroyed] == [(recorded, RecordKind.RECORDINGS)]
    assert not wav.exists()  # the recording first, then the row naming it

    with store.reading() as session:
        assert set(session.scalars(select(Account.id))) == {still_open, disputed}
        assert set(session.scalars(select(Debtor.id))) == {kept_debtor, disputed_debtor}
        assert rows(store, Phone, debtor_id=gone_debtor) == 0 and rows(store, Address, debtor_id=gone_debtor) == 0
        assert rows(store, Phone, debtor_id=kept_debtor) == 1  # their other account is still worked
        assert [hold.kind for hold in session.scalars(select(Hold).order_by(Hold.id))] == [
            HoldKind.DNC, HoldKind.DISPUTE]  # the account's cease went with it; bare-number holds stay
    for model in (Attempt, Note, Promise, RepaymentPlan, Installment, Payment, StatementLineRow, ScreeningFinding,
                  ScreeningReview):
        assert rows(store, model) == 0, model.__name__
    with store.reading() as session:
        log = session.scalars(select(DestructionLog).where(DestructionLog.kind == "closed_cases")).one()
        assert (log.jurisdiction, log.count, log.tally) == ("US", 2, {"accounts": 2, "debtors": 1})
        assert "1006.100(a)" in log.source
        assert verify_chain(session).intact

    assert job.run(now + DAY).rows == []
    assert rows(store, DestructionLog) == 2 and rows(store, Account) == 2


def test_a_row_waits_for_its_recording_and_goes_in_the_run_that_destroys_it(store: Store, tmp_path: Path) -> None:
    def policy(days: int, anchor: str = "call") -> dict[str, Any]:
        return {"keep_days": days, "minimum_days": 0, "from": anchor, "source": "a test's law"}
    policies = parse_policies({"version": "t", "policies": {"CN": {
        "recordings": policy(900), "transcripts": policy(900), "attempts": policy(100),
        "closed_cases": policy(100, "closed")}}})
    debtor_id, phone_id, number = debtor(store)
    closed = account(store, debtor_id, "CN", AccountStatus.CLOSED, T0)
    wav = tmp_path / "call.wav"
    tone_recording(wav, 1.0)
    recorded = attempt(store, closed, phone_id, number, "CN", T0, recording=wav)
    job = Destruction(store, policies)

    report = job.run(T0 + 200 * DAY)  # the row's and the case's time is up, not the recording's
    assert report.rows == [] and report.waiting == {RecordKind.ATTEMPTS: 1, RecordKind.CLOSED_CASES: 1}
    assert wav.exists() and rows(store, Attempt, id=recorded) == 1
    dry = job.run(T0 + 901 * DAY, dry_run=True)
    report = job.run(T0 + 901 * DAY)
    assert batches(report) == batches(dry) == [RowsDestroyed(RecordKind.ATTEMPTS, "CN", 1, {"call/answered": 1}),
                                               RowsDestroyed(RecordKind.CLOSED_CASES, "CN", 1,
                                                             {"accounts": 1, "debtors": 1})]
    assert not wav.exists() and rows(store, Account) == rows(store, Debtor) == 0
