"""Retention and destruction over a real case store (SQLite and PostgreSQL) and a real Redis: recordings and
transcripts past their jurisdiction's period are crypto-shredded (unreadable even through a descriptor opened
before the job, as a leftover disk block would be), a legal or dispute hold keeps its own, each period runs
from what the law says (the call, or the account's last activity), a dry run changes nothing, and every
destruction is in the intact audit chain with the law it applied."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from campaigns.destruction import Destruction, run_daily
from cases import Store
from cases.audit import verify_chain
from cases.models import Account, Attempt, AttemptOutcome, AuditEntry, Debtor, Hold, HoldKind, Phone, PhoneKind, Product
from compliance.holds import place_hold, release_hold
from crypto import MasterKeys, SealedFileError, WrongKey
from crypto.keys import MAX_ID_BYTES
from crypto.sealed import HEADER_BYTES, SealedReader
from recordings.retention import RecordKind, RetentionError, load_policies, parse_policies
from recordings.storage import seal_recording
from recordings.transcripts import RecordingTranscript, TranscriptStore, transcript_file
from speech.transcribe import Segment, Transcript
from tests.conftest import REDIS_URL
from tests.recordings.test_sealed import tone_recording

CALL_AT = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
KEY_ID_END = 38 + 1 + MAX_ID_BYTES  # the sealed header's fixed part, then the key id's length and the id


@pytest.fixture
def keys(tmp_path: Path) -> MasterKeys:
    keys = MasterKeys(tmp_path / "master.key", environ={})
    keys.add()
    return keys


@pytest.fixture
def transcripts(redis_prefix: str) -> Iterator[TranscriptStore]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    yield TranscriptStore(client, f"{redis_prefix}:transcript")
    client.close()


def account(store: Store, pack: str) -> tuple[int, int, int]:
    """A debtor with one phone and one account; (debtor, account, phone) ids."""
    with store.session() as session:
        debtor = Debtor(external_ref=f"D-{uuid.uuid4().hex[:6]}", full_name="Pat Doe")
        debtor.phones.append(Phone(e164=f"+1202555{uuid.uuid4().int % 10000:04d}", kind=PhoneKind.MOBILE))
        session.add(debtor)
        session.flush()
        row = Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"A-{uuid.uuid4().hex[:6]}",
                      product=Product.CREDIT_CARD, currency="USD", principal=Decimal(100), balance=Decimal(100),
                      overdue_amount=Decimal(100), jurisdiction=pack)
        session.add(row)
        session.flush()
        return debtor.id, row.id, debtor.phones[0].id


def recorded_call(store: Store, keys: MasterKeys, transcripts: TranscriptStore, recordings: Path, account_id: int,
                  phone_id: int, pack: str, at: datetime) -> int:
    """A closed call placed under `pack` at `at`, its recording and transcript sealed, the transcript's copy of
    record in Redis, as the after-call path leaves them; the attempt id."""
    with store.session() as session:
        attempt = Attempt(account_id=account_id, phone_id=phone_id, number_e164="+12025550000", started_at=at,
                          ended_at=at + timedelta(seconds=3), outcome=AttemptOutcome.ANSWERED,
                          receipt={"pack": {"name": pack, "version": "1"}})
        session.add(attempt)
        session.flush()
        wav = recordings / f"{attempt.id}.wav"
        tone_recording(wav, 1.0)
        attempt.recording_path = str(seal_recording(wav, keys.keyring()))
        record = RecordingTranscript(f"attempt-{attempt.id}", attempt.recording_path,
                                     Transcript("en", 3.0, (Segment("agent", 0.1, 2.0, "Pay today."),)))
        record.write_sealed(keys.keyring())
        transcripts.put_once(record)
        return attempt.id


def a_later_attempt(store: Store, account_id: int, phone_id: int, at: datetime) -> None:
    with store.session() as session:
        session.add(Attempt(account_id=account_id, phone_id=phone_id, number_e164="+12025550000", started_at=at,
                            outcome=AttemptOutcome.NO_ANSWER, receipt={"pack": {"name": "US", "version": "1"}}))


def left_of(store: Store, transcripts: TranscriptStore, attempt_id: int) -> dict[str, object]:
    with store.reading() as session:
        row = session.get(Attempt, attempt_id)
        path = row.recording_path if row is not None else None  # the row itself goes with the attempts' period
    return {"path": path, "recording": path is not None and Path(path).exists(),
            "transcript": path is not None and transcript_file(path) is not None,
            "redis": transcripts.exists(f"attempt-{attempt_id}")}


def test_expired_calls_are_shredded_while_a_legal_hold_keeps_its_own(store: Store, keys: MasterKeys,
                                                                     transcripts: TranscriptStore,
                                                                     tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    _, cn_account, cn_phone = account(store, "CN")
    held_debtor, held_account, held_phone = account(store, "CN")
    expired = recorded_call(store, keys, transcripts, recordings, cn_account, cn_phone, "CN", CALL_AT)
    recent = recorded_call(store, keys, transcripts, recordings, cn_account, cn_phone, "CN", CALL_AT + 600 * DAY)
    held = recorded_call(store, keys, transcripts, recordings, held_account, held_phone, "CN", CALL_AT)
    with store.session() as session:
        place_hold(session, kind=HoldKind.LEGAL, actor="counsel", source="litigation", debtor_id=held_debtor,
                   starts_at=CALL_AT)
    now = CALL_AT + 732 * DAY  # 2 years and a day (CN: at least 2 years) after the first calls
    job = Destruction(store, load_policies(), transcripts=transcripts)

    dry = job.run(now, dry_run=True)
    assert {(d.attempt_id, d.kind) for d in dry.destroyed} == {(expired, RecordKind.RECORDINGS),
                                                               (expired, RecordKind.TRANSCRIPTS)}
    assert dry.held == {held} and left_of(store, transcripts, expired)["recording"]  # nothing touched

    expired_path = Path(str(left_of(store, transcripts, expired)["path"]))
    header = expired_path.read_bytes()[:HEADER_BYTES]
    leftover = open(expired_path, "rb")  # noqa: SIM115 - a reader holding the inode, as a leftover block would
    report = job.run(now)
    assert {(d.attempt_id, d.kind) for d in report.destroyed} == {(expired, RecordKind.RECORDINGS),
                                                                  (expired, RecordKind.TRANSCRIPTS)}
    assert report.held == {held} and report.failed == {}
    assert left_of(store, transcripts, expired) == {"path": None, "recording": False, "transcript": False,
                                                    "redis": False}
    assert not expired_path.exists() and not list(recordings.glob(f"{expired}.*"))
    with store.reading() as session:  # CN keeps the call's row as long as its recording: it went in the same run
        assert session.get(Attempt, expired) is None and session.get(Attempt, held) is not None
    shredded = tmp_path / "leftover.sealed"
    shredded.write_bytes(leftover.read())
    leftover.close()
    with pytest.raises(SealedFileError, match="shredded"):  # the wrapped data key is gone: no key opens it
        SealedReader(shredded, keys.keyring())
    forged = tmp_path / "forged.sealed"  # the key id put back: the key it had no longer opens it
    forged.write_bytes(header[:KEY_ID_END] + shredded.read_bytes()[KEY_ID_END:])
    with pytest.raises(WrongKey):
        SealedReader(forged, keys.keyring())
    for kept in (recent, held):
        assert left_of(store, transcripts, kept) | {"path": None} == {"path": None, "recording": True,
                                                                      "transcript": True, "redis": True}

    with store.reading() as session:
        destroyed = session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.destroyed",
                                                             AuditEntry.entity == "attempt")).all()
        assert [entry.entity_id for entry in destroyed] == [str(expired)]
        assert {record["kind"] for record in destroyed[0].details["records"]} == {"recordings", "transcripts"}
        assert "第六十八条" in destroyed[0].details["records"][0]["source"]
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run")).one()
        assert verify_chain(session).intact
    assert job.run(now).destroyed == []  # nothing left to do

    with store.session() as session:
        hold_id = session.scalars(select(Hold.id)).one()
        release_hold(session, hold_id, actor="counsel")
    assert {d.attempt_id for d in job.run(now).destroyed} == {held}


def test_a_dispute_hold_on_the_number_keeps_the_call_and_a_us_transcript_runs_from_the_last_activity(
        store: Store, keys: MasterKeys, transcripts: TranscriptStore, tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    _, us_account, us_phone = account(store, "US-FL")
    _, disputed_account, disputed_phone = account(store, "US")
    call = recorded_call(store, keys, transcripts, recordings, us_account, us_phone, "US-FL", CALL_AT)
    a_later_attempt(store, us_account, us_phone, CALL_AT + 500 * DAY)
    disputed = recorded_call(store, keys, transcripts, recordings, disputed_account, disputed_phone, "US", CALL_AT)
    with store.session() as session:
        place_hold(session, kind=HoldKind.DISPUTE, actor="agent", source="debtor", phone_id=disputed_phone,
                   starts_at=CALL_AT)
    job = Destruction(store, load_policies(), transcripts=transcripts)

    assert job.run(CALL_AT + 1095 * DAY).destroyed == []  # Reg F: 3 years after the call
    report = job.run(CALL_AT + 1097 * DAY)
    assert [(d.attempt_id, d.kind, d.jurisdiction) for d in report.destroyed] == [
        (call, RecordKind.RECORDINGS, "US")]  # the transcript: 3 years after the account's last activity
    assert left_of(store, transcripts, call) | {"path": None} == {"path": None, "recording": False,
                                                                  "transcript": True, "redis": True}
    assert report.held == {disputed}
    report = job.run(CALL_AT + (500 + 1097) * DAY)
    assert [(d.attempt_id, d.kind) for d in report.destroyed] == [(call, RecordKind.TRANSCRIPTS)]
    assert left_of(store, transcripts, call)["path"] is None


def test_a_policy_below_the_law_or_without_its_source_is_refused() -> None:
    item = {"keep_days": 100, "minimum_days": 731, "from": "call", "source": "a law"}
    kinds = {kind.value: item for kind in RecordKind}
    with pytest.raises(RetentionError, match="below"):
        parse_policies({"version": "1", "policies": {"CN": kinds}})
    with pytest.raises(RetentionError, match="closed_cases"):
        parse_policies({"version": "1", "policies": {"CN": {"recordings": {**item, "keep_days": 800}}}})
    lawful = {kind.value: {**item, "keep_days": 800} for kind in RecordKind}
    with pytest.raises(RetentionError, match="closed_cases: a period cannot run from call"):
        parse_policies({"version": "1", "policies": {"CN": {**lawful, "closed_cases": {**item, "keep_days": 800}}}})
    policies = load_policies()
    assert policies.policy("US-FL", RecordKind.RECORDINGS) == policies.policy("US", RecordKind.RECORDINGS)
    assert policies.policy(None, RecordKind.RECORDINGS) is None and policies.policy("FR", RecordKind.ATTEMPTS) is None


async def test_the_daily_job_runs_at_once_then_each_period_until_stopped(sqlite_store: Store, keys: MasterKeys,
                                                                         transcripts: TranscriptStore,
                                                                         tmp_path: Path) -> None:
    _, account_id, phone_id = account(sqlite_store, "CN")
    first = recorded_call(sqlite_store, keys, transcripts, tmp_path, account_id, phone_id, "CN", CALL_AT)
    now = [CALL_AT + 100 * DAY]
    stop = asyncio.Event()
    daily = asyncio.ensure_future(run_daily(Destruction(sqlite_store, load_policies(), transcripts=transcripts),
                                            stop, every_s=0.05, clock=lambda: now[0]))
    await asyncio.sleep(0.2)
    assert left_of(sqlite_store, transcripts, first)["recording"]  # not due yet, run after run
    now[0] = CALL_AT + 800 * DAY  # the calendar moves on: the next run destroys it
    for _ in range(100):
        if left_of(sqlite_store, transcripts, first)["path"] is None:
            break
        await asyncio.sleep(0.05)
    assert left_of(sqlite_store, transcripts, first)["path"] is None
    stop.set()
    await asyncio.wait_for(daily, 2)
