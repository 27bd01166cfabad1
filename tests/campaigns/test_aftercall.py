"""The after-call path in-process: one call context built from the attempt, screening saved once, and the
runner's `AfterCall` only queueing a job named for the attempt on the durable stream (real Redis, real
SQLite and PostgreSQL). The worker processes that work those jobs are proven in tests/dunline/test_workers.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from campaigns.aftercall import AfterCall, aftercall_job_id, screen_transcript
from campaigns.language import call_language
from campaigns.service import CampaignSpec, create_campaign
from cases import Store
from cases.models import (
    Account,
    AfterCallState,
    Attempt,
    AttemptOutcome,
    Debtor,
    Phone,
    PhoneKind,
    PhoneOwner,
    Product,
    Role,
    User,
)
from cases.segments import Segment as CaseSegment
from compliance.screening import CallContext, Category, Screener, ScreeningFinding, call_context
from dialer.pacing.modes import DialMode
from recordings.jobs import JobQueue
from recordings.transcripts import TranscriptStore
from speech.transcribe import Segment, Transcript
from tests.conftest import REDIS_URL, server_missing


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener.load(learned=False)


def seed_call(store: Store, *, owner: PhoneOwner = PhoneOwner.DEBTOR, time_barred: bool = False,
              recording: Path | None = None, language: str = "en", campaign_id: int | None = None) -> tuple[int, int]:
    """A US debtor's account (the debtor speaking `language`), a phone of `owner`, an agent and one answered
    call by that agent to that phone, in `campaign_id`; (attempt id, agent id)."""
    with store.session() as session:
        agent = User(username=f"agent-{uuid.uuid4().hex[:6]}", display_name="Amy", role=Role("agent"))
        debtor = Debtor(external_ref=f"D-{uuid.uuid4().hex[:6]}", full_name="Pat Doe", language=language)
        debtor.phones.append(Phone(e164="+12025550123", kind=PhoneKind.MOBILE, owner=owner))
        session.add_all([agent, debtor])
        session.flush()
        account = Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"A-{uuid.uuid4().hex[:6]}",
                          product=Product.CREDIT_CARD, currency="USD", principal=Decimal(100),
                          balance=Decimal(100), overdue_amount=Decimal(100), jurisdiction="US",
                          time_barred=time_barred)
        session.add(account)
        session.flush()
        attempt = Attempt(account_id=account.id, phone_id=debtor.phones[0].id, number_e164="+12025550123",
                          agent_id=agent.id, campaign_id=campaign_id, conversation=True, outcome=AttemptOutcome.ANSWERED,
                          recording_path=str(recording) if recording else None,
                          aftercall=AfterCallState.QUEUED if recording else None)
        session.add(attempt)
        session.flush()
        return attempt.id, agent.id


def said(*lines: tuple[str, str]) -> Transcript:
    return Transcript("en", 4.0 * len(lines), tuple(Segment(speaker, 4.0 * n, 4.0 * n + 3.0, text)
                                                   for n, (speaker, text) in enumerate(lines)))


def test_item_3_one_call_context_from_the_attempt(store: Store) -> None:
    reference, _ = seed_call(store, owner=PhoneOwner.REFERENCE, time_barred=True)
    debtor, _ = seed_call(store)
    with store.session() as session:
        assert call_context(session, reference) == CallContext(jurisdiction="US", time_barred=True, third_party=True)
        assert call_context(session, debtor) == CallContext(jurisdiction="US", time_barred=False, third_party=False)


def test_item_3_a_call_to_a_reference_contact_is_screened_as_third_party(store: Store, screener: Screener) -> None:
    """Debt talk is lawful with the debtor and a disclosure with anyone else: the context decides."""
    line = said(("agent", "We are calling about an unpaid bill."))
    reference, agent_id = seed_call(store, owner=PhoneOwner.REFERENCE, recording=Path("/nowhere/1.wav"))
    debtor, _ = seed_call(store, recording=Path("/nowhere/2.wav"))
    for attempt_id in (reference, debtor):
        screen_transcript(store, screener, attempt_id, line)
    with store.session() as session:
        disclosures = session.scalars(select(ScreeningFinding).where(
            ScreeningFinding.category == Category.THIRD_PARTY_DISCLOSURE)).all()
        assert [(f.attempt_id, f.agent_id) for f in disclosures] == [(reference, agent_id)]


def test_item_4_screening_a_call_twice_saves_its_findings_once(store: Store, screener: Screener) -> None:
    """A worker presumed dead may finish a job another worker finished too: the second screening is a no-op."""
    attempt_id, _ = seed_call(store, recording=Path("/nowhere/call.wav"))
    transcript = said(("agent", "If you do not pay today, the police will come and arrest you."))
    first = screen_transcript(store, screener, attempt_id, transcript)
    assert first and screen_transcript(store, screener, attempt_id, transcript) == []
    with store.session() as session:
        assert len(session.scalars(select(ScreeningFinding)).all()) == len(first)
        assert session.get(Attempt, attempt_id).aftercall is AfterCallState.DONE  # type: ignore[union-attr]


@pytest.fixture
def queue() -> Iterator[JobQueue]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.ping()
    except redis.ConnectionError as error:
        server_missing("Redis", error)
    prefix = f"test:aftercall:{uuid.uuid4().hex[:8]}"
    yield JobQueue(client, prefix=f"{prefix}:q", transcripts=TranscriptStore(client, f"{prefix}:t"))
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.mark.redis_server
def test_item_4_after_call_only_queues_one_job_named_for_the_attempt(sqlite_store: Store, queue: JobQueue,
                                                                     tmp_path: Path) -> None:
    recording = tmp_path / "call.wav"
    recording.write_bytes(b"")
    attempt_id, _ = seed_call(sqlite_store, recording=recording)
    after_call = AfterCall(sqlite_store, queue)

    async def twice() -> list[str]:
        return [await after_call(attempt_id, recording), await after_call(attempt_id, recording)]

    assert asyncio.run(twice()) == [aftercall_job_id(attempt_id)] * 2
    assert after_call.enqueue_backlog() == [attempt_id]  # the start-up sweep re-queues it: still one job
    assert queue.open_jobs() == 1
    status = queue.status(aftercall_job_id(attempt_id))
    assert status["state"] == "queued" and status["recording"] == str(recording) and status["language"] == "en"
    with sqlite_store.session() as session:  # the attempt row stays the truth: queued until screened
        assert session.get(Attempt, attempt_id).aftercall is AfterCallState.QUEUED  # type: ignore[union-attr]


def campaign_of(store: Store, name: str, languages: tuple[str, ...]) -> int:
    with store.session() as session:
        spec = CampaignSpec(name, CaseSegment(jurisdictions=("US",), languages=languages), DialMode.PROGRESSIVE,
                            agent_group="collectors")
        return create_campaign(session, spec, actor="manager").id


def test_issue20_a_call_is_transcribed_in_its_campaigns_language_else_its_cases(store: Store) -> None:
    chinese = campaign_of(store, f"cn-{uuid.uuid4().hex[:6]}", ("zh",))
    mixed = campaign_of(store, f"mixed-{uuid.uuid4().hex[:6]}", ("zh", "en"))
    calls = {"campaign zh, case en": seed_call(store, language="en", campaign_id=chinese)[0],
             "campaign zh+en, case en": seed_call(store, language="en", campaign_id=mixed)[0],
             "campaign zh+en, case zh": seed_call(store, language="zh", campaign_id=mixed)[0],
             "no campaign, case en": seed_call(store, language="en")[0]}
    with store.reading() as session:
        assert {name: call_language(session, attempt) for name, attempt in calls.items()} == {
            "campaign zh, case en": "zh", "campaign zh+en, case en": "en", "campaign zh+en, case zh": "zh",
            "no campaign, case en": "en"}
        with pytest.raises(LookupError, match="no attempt 987654321"):
            call_language(session, 987654321)


@pytest.mark.redis_server
def test_issue20_each_job_carries_its_calls_language(sqlite_store: Store, queue: JobQueue, tmp_path: Path) -> None:
    recording = tmp_path / "call.wav"
    recording.write_bytes(b"")
    english = campaign_of(sqlite_store, "us-only", ("en",))
    attempts = {seed_call(sqlite_store, recording=recording, language="zh", campaign_id=english)[0]: "en",
                seed_call(sqlite_store, recording=recording, language="zh")[0]: "zh"}
    after_call = AfterCall(sqlite_store, queue)
    for attempt_id in attempts:
        asyncio.run(after_call(attempt_id, recording))
    assert {a: queue.status(aftercall_job_id(a))["language"] for a in attempts} == attempts
