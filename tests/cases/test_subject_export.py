"""Subject-access export (issue 17): everything held on one debtor — debtor, phones, addresses, accounts, attempts
with their receipts, notes, promises, plans, payments, holds, findings and reviews, the audit rows naming them,
the recordings — and nothing of another debtor, from the case store (SQLite and PostgreSQL), through the API
(JSON and a zip with the recordings; administrators only; audited)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from cases import Store
from cases.audit import record
from cases.models import (
    Account,
    Address,
    Attempt,
    AttemptOutcome,
    AuditEntry,
    Debtor,
    HoldKind,
    Installment,
    Note,
    Payment,
    PaymentChannel,
    Phone,
    Product,
    Promise,
    RepaymentPlan,
    Role,
    ScreeningFinding,
    ScreeningReview,
    Source,
)
from cases.subject_export import SubjectNotFound, export_subject, gather, to_json, write_zip
from compliance import place_hold
from console import build_app
from console.review import RecordingsKey
from tests.conftest import REDIS_URL
from tests.console.conftest import T0, StepClock, bearer, mint_token

SECTIONS = ("phones", "addresses", "accounts", "attempts", "notes", "promises", "repayment_plans", "payments", "holds",
            "screening_findings", "screening_reviews", "audit", "recordings")


def seed_debtor(store: Store, tag: str, recordings: Path) -> dict[str, list[int]]:
    """A debtor whose every value carries `tag`, with one of each kind of row; returns their ids by section."""
    day = date(2026, 11, 1)
    with store.session() as session:
        debtor = Debtor(external_ref=f"ref-{tag}", full_name=f"name-{tag}", national_id=f"nid-{tag}",
                        email=f"{tag}@example.com")
        debtor.addresses.append(Address(line1=f"street-{tag}", city="上海", country="CN", timezone="Asia/Shanghai"))
        n = 1 if tag == "one" else 2
        debtor.phones.append(Phone(e164=f"+861380000{n}001"))
        debtor.phones.append(Phone(e164=f"+861380000{n}002"))
        session.add(debtor)
        session.flush()
        account = Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"acct-{tag}", product=Product.CREDIT_CARD,
                          currency="CNY", principal=Decimal("1000"), balance=Decimal("800"),
                          overdue_amount=Decimal("200"), due_date=day, jurisdiction="CN")
        session.add(account)
        session.flush()
        wav = recordings / f"call-{tag}.wav"
        wav.write_bytes(f"RIFF-audio-{tag}".encode())
        attempt = Attempt(account_id=account.id, phone_id=debtor.phones[0].id, number_e164=debtor.phones[0].e164,
                          started_at=T0, outcome=AttemptOutcome.ANSWERED, recording_path=str(wav),
                          receipt={"verdict": "allowed", "pack": {"name": "CN"}, "note": f"receipt-{tag}"})
        session.add(attempt)
        session.flush()
        note = Note(account_id=account.id, attempt_id=attempt.id, body=f"note-{tag}")
        promise = Promise(account_id=account.id, attempt_id=attempt.id, amount=Decimal("50"), promised_for=day,
                          source=Source.AGENT)
        plan = RepaymentPlan(account_id=account.id, total_amount=Decimal("600"), installment_count=1,
                             source=Source.IVR, installments=[Installment(seq=1, due_date=day, amount=Decimal("600"))])
        payment = Payment(account_id=account.id, amount=Decimal("10"), paid_on=day, channel=PaymentChannel.ALIPAY,
                          external_ref=f"pay-{tag}")
        session.add_all([note, promise, plan, payment])
        session.flush()
        holds = [place_hold(session, kind=HoldKind.DISPUTE, actor="t", source="test", account_id=account.id).id,
                 place_hold(session, kind=HoldKind.CEASE, actor="t", source="test", debtor_id=debtor.id).id,
                 place_hold(session, kind=HoldKind.DNC, actor="t", source="test", e164=debtor.phones[1].e164).id]
        finding = ScreeningFinding(attempt_id=attempt.id, account_id=account.id, category="dispute", severity="low",
                                   severity_rank=1, speaker="debtor", excerpt=f"excerpt-{tag}", source="lexicon",
                                   ruleset="test")
        session.add(finding)
        session.flush()
        session.add(ScreeningReview(finding_id=finding.id, reviewer="rita", decision="confirmed", note=f"review-{tag}"))
        record(session, actor="li", action="note.added", entity="note", entity_id=note.id, details={"tag": tag})
        record(session, actor="li", action="case.viewed", entity="account", entity_id=account.id)
        return {"debtor": [debtor.id], "phones": [p.id for p in debtor.phones], "accounts": [account.id],
                "attempts": [attempt.id], "notes": [note.id], "promises": [promise.id], "repayment_plans": [plan.id],
                "payments": [payment.id], "holds": holds, "screening_findings": [finding.id]}


@pytest.fixture
def seeded(store: Store, tmp_path: Path) -> tuple[dict[str, list[int]], Path]:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    one = seed_debtor(store, "one", recordings)
    seed_debtor(store, "two", recordings)
    return one, recordings


def test_everything_held_on_the_debtor_and_nothing_of_another(store: Store,
                                                              seeded: tuple[dict[str, list[int]], Path]) -> None:
    ids, _ = seeded
    with store.session() as session:
        export = export_subject(session, "ref-one", actor="ada", now=T0, via="test")
    document = export.document
    assert set(SECTIONS) < set(document) and document["debtor"]["national_id"] == "nid-one"  # unmasked: their own
    for section in ("phones", "accounts", "attempts", "notes", "promises", "repayment_plans", "payments", "holds",
                    "screening_findings"):
        assert sorted(row["id"] for row in document[section]) == sorted(ids[section]), section
    assert document["addresses"][0]["line1"] == "street-one"
    assert document["attempts"][0]["receipt"]["note"] == "receipt-one"
    assert document["repayment_plans"][0]["installments"][0]["amount"] == "600.00"
    assert [r["note"] for r in document["screening_reviews"]] == ["review-one"]
    assert {h["kind"] for h in document["holds"]} == {"dispute", "cease", "dnc"}  # account, debtor, their number
    audit = {(row["action"], row["entity"]) for row in document["audit"]}
    assert {("note.added", "note"), ("case.viewed", "account"), ("hold.placed", "hold")} <= audit
    assert [r["attempt_id"] for r in document["recordings"]] == ids["attempts"]
    text = to_json(export)
    assert "two" not in text.replace("\"two\"", "")  # no value of the other debtor, whose every value says "two"
    with store.reading() as session:
        [exported] = session.scalars(select(AuditEntry).where(AuditEntry.action == "subject.exported")).all()
        assert (exported.actor, exported.entity, exported.entity_id) == ("ada", "debtor", str(ids["debtor"][0]))
        with pytest.raises(SubjectNotFound):
            gather(session, "ref-nobody", now=T0)


def test_the_zip_adds_the_recordings_it_can_read(store: Store, seeded: tuple[dict[str, list[int]], Path]) -> None:
    _, recordings = seeded
    with store.session() as session:
        export = gather(session, "ref-one", now=T0)
    out = io.BytesIO()
    assert write_zip(export, out, lambda stored: Path(stored).read_bytes()) == []
    archive = zipfile.ZipFile(out)
    [recording] = [name for name in archive.namelist() if name.startswith("recordings/")]
    assert archive.read(recording) == b"RIFF-audio-one" and recording.endswith("-call-one.wav")
    assert json.loads(archive.read("subject.json"))["debtor"]["external_ref"] == "ref-one"
    gone = io.BytesIO()
    assert write_zip(export, gone, lambda stored: None) == [str(recordings / "call-one.wav")]
    assert zipfile.ZipFile(gone).namelist() == ["subject.json"]


@pytest.fixture
async def api(store: Store, seeded: tuple[dict[str, list[int]], Path]) -> AsyncIterator[TestClient]:
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=StepClock())
    app[RecordingsKey] = seeded[1]
    async with TestClient(TestServer(app)) as client:
        yield client
    await redis_client.aclose()


async def test_administrators_export_through_the_api_audited(store: Store, api: TestClient) -> None:
    tokens = {role: mint_token(store, role, username=role.value) for role in Role}
    for role in Role:
        if role is not Role.ADMIN:
            assert (await api.get("/api/subjects/ref-one/export", headers=bearer(tokens[role]))).status == 403
    admin = bearer(tokens[Role.ADMIN])
    as_json = await api.get("/api/subjects/ref-one/export", headers=admin)
    assert as_json.status == 200 and as_json.headers["Cache-Control"] == "no-store"
    assert (await as_json.json())["accounts"][0]["account_ref"] == "acct-one"
    as_zip = await api.get("/api/subjects/ref-two/export", params={"format": "zip"}, headers=admin)
    assert as_zip.status == 200 and as_zip.content_type == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(await as_zip.read()))
    assert [archive.read(n) for n in archive.namelist() if n.startswith("recordings/")] == [b"RIFF-audio-two"]
    assert (await api.get("/api/subjects/ref-nobody/export", headers=admin)).status == 404
    assert (await api.get("/api/subjects/ref-one/export", params={"format": "pdf"}, headers=admin)).status == 400
    with store.reading() as session:
        exported = session.scalars(select(AuditEntry).where(AuditEntry.action == "subject.exported")
                                   .order_by(AuditEntry.seq)).all()
    assert [(e.actor, e.details["what"]) for e in exported] == [("admin", "api json"), ("admin", "api zip")]
    assert exported[1].details["recordings"] == 1
