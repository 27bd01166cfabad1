"""The compliance reviewer's API over a real server, a real case store (SQLite and PostgreSQL) and a real Redis:
calls recorded, transcribed and screened through the real pipeline (the gate's claim, the stereo recorder,
the attempt's close, the after-call screening), then queued, opened, heard in ranges and decided."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from audio.g711 import encode
from campaigns.aftercall import aftercall_job_id, screen_recorded
from campaigns.attempts import CallEnd, claim, close, recording_path, set_recording
from cases import Store
from cases.models import (
    Account,
    Address,
    AttemptOutcome,
    AuditEntry,
    Campaign,
    Debtor,
    Phone,
    PhoneKind,
    Product,
    Role,
    User,
)
from compliance import CampaignFacts, ComplianceGate
from compliance.screening import Screener
from console import build_app
from console.review import RecordingsKey, TranscriptPrefixKey
from dialer.media.recorder import StereoRecorder
from recordings.transcripts import RecordingTranscript, TranscriptStore, json_path
from speech.transcribe import Segment, Transcript
from tests.conftest import REDIS_URL
from tests.console.conftest import StepClock, bearer, mint_token

CALL_AT = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai, inside the calling hours
RATE = 8000
PACKET = 160  # 20 ms
THREAT = (("agent", 0.5, 3.0, "Hello, this is Acme calling about your credit card."),
          ("debtor", 3.5, 5.5, "Stop calling me."),
          ("agent", 6.0, 9.5, "If you do not pay today, the police will come and arrest you."))
INSULT = (("agent", 0.5, 3.0, "You people are all the same."),)


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener.load(learned=False)


def record_audio(path: Path, seconds: float) -> None:
    """A stereo recording made by the call recorder: a low tone on the debtor's side, a high one on the agent's."""
    now = [0.0]
    recorder = StereoRecorder(path, clock=lambda: now[0])
    t = np.arange(PACKET) / RATE
    for n in range(int(seconds * RATE / PACKET)):
        now[0] += PACKET / RATE
        phase = n * PACKET / RATE
        recorder.left(encode((3000 * np.sin(2 * np.pi * 300 * (t + phase))).astype(np.int16), "ulaw"), "ulaw",
                      n * PACKET, 1)
        recorder.right(encode((3000 * np.sin(2 * np.pi * 900 * (t + phase))).astype(np.int16), "ulaw"), "ulaw",
                       n * PACKET, 2)
        recorder.tick(now[0])
    recorder.close()


def seed_flagged_call(store: Store, screener: Screener, recordings: Path, *, ref: str, agent: str = "amy",
                      lines: tuple[tuple[str, float, float, str], ...] = THREAT, campaign_id: int | None = None,
                      transcripts: TranscriptStore | None = None, at: datetime = CALL_AT) -> int:
    """A debtor's case, a call to them claimed through the gate, recorded, closed by `agent`, transcribed as
    `lines` (stored in Redis when `transcripts` is given; always beside the recording) and screened; the
    attempt id."""
    with store.session() as session:
        if session.scalar(select(User.id).where(User.username == agent)) is None:
            session.add(User(username=agent, display_name=agent.title(), role=Role.AGENT))
        debtor = Debtor(external_ref=f"D-{ref}", full_name="王小明")
        debtor.addresses.append(Address(region="广东", country="CN", timezone="Asia/Shanghai"))
        debtor.phones.append(Phone(e164="+8613812345678", kind=PhoneKind.MOBILE, consent_automated=True))
        session.add(debtor)
        session.flush()
        account = Account(debtor_id=debtor.id, creditor="Acme", account_ref=ref, product=Product.CREDIT_CARD,
                          currency="CNY", principal=Decimal(900), balance=Decimal(900), overdue_amount=Decimal(900),
                          jurisdiction="CN")
        session.add(account)
        session.flush()
        account_id, phone_id = account.id, debtor.phones[0].id
    decision, attempt_id = claim(store, ComplianceGate(store), account_id, phone_id, at,
                                 CampaignFacts(campaign_id=campaign_id))
    assert attempt_id is not None, decision.reasons
    path = recording_path(recordings, attempt_id, at)
    with store.session() as session:
        set_recording(session, attempt_id, path)
    duration = max(end for _, _, end, _ in lines) + 0.5
    record_audio(path, duration)
    with store.session() as session:
        close(session, attempt_id, CallEnd(AttemptOutcome.ANSWERED, at + timedelta(seconds=duration),
                                           answered_at=at, recording=path, agent=agent))
    record = RecordingTranscript(aftercall_job_id(attempt_id), str(path), Transcript(
        "en", duration, tuple(Segment(speaker, start, end, said) for speaker, start, end, said in lines)))
    if transcripts is not None:
        transcripts.put_once(record)
    assert screen_recorded(store, screener, attempt_id, record)
    return attempt_id


@dataclass
class Review:
    client: TestClient
    store: Store
    recordings: Path
    transcripts: TranscriptStore
    tokens: dict[str, str]

    async def get(self, path: str, role: str = "reviewer", **options: Any) -> Any:
        return await self.client.get(path, headers={**bearer(self.tokens[role]), **options.pop("headers", {})},
                                     **options)

    async def post(self, path: str, body: dict[str, Any], role: str = "reviewer") -> Any:
        return await self.client.post(path, json=body, headers=bearer(self.tokens[role]))

    async def json(self, path: str, role: str = "reviewer", status: int = 200) -> Any:
        response = await self.get(path, role)
        body = await response.json()
        assert response.status == status, body
        return body

    def audits(self, action: str) -> list[AuditEntry]:
        with self.store.reading() as session:
            return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                        .order_by(AuditEntry.seq)))


@pytest.fixture
def transcripts(redis_prefix: str) -> Iterator[TranscriptStore]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    yield TranscriptStore(client, f"{redis_prefix}:transcript")
    client.close()


@pytest.fixture
async def review(store: Store, clock: StepClock, tmp_path: Path, transcripts: TranscriptStore) -> AsyncIterator[Review]:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=clock)
    app[RecordingsKey] = recordings
    app[TranscriptPrefixKey] = transcripts.prefix
    tokens = {"reviewer": mint_token(store, Role.COMPLIANCE_REVIEWER, username="qa1"),
              "admin": mint_token(store, Role.ADMIN), "agent": mint_token(store, Role.AGENT, username="agent-x"),
              "supervisor": mint_token(store, Role.SUPERVISOR),
              "manager": mint_token(store, Role.CAMPAIGN_MANAGER)}
    async with TestClient(TestServer(app)) as client:
        yield Review(client, store, recordings, transcripts, tokens)
    await redis_client.aclose()


def add_campaign(store: Store, name: str) -> int:
    with store.session() as session:
        campaign = Campaign(name=name, dial_mode="predictive", created_by="t")
        session.add(campaign)
        session.flush()
        return campaign.id


async def test_the_queue_is_gravest_then_oldest_and_filters_by_agent_category_campaign_and_state(
        review: Review, screener: Screener) -> None:
    november = add_campaign(review.store, "november")
    insult = seed_flagged_call(review.store, screener, review.recordings, ref="A1", agent="bob", lines=INSULT)
    first = seed_flagged_call(review.store, screener, review.recordings, ref="A2", campaign_id=november)
    second = seed_flagged_call(review.store, screener, review.recordings, ref="A3")

    queue = await review.json("/api/review/queue")
    assert [c["attempt_id"] for c in queue["calls"]] == [first, second, insult] and queue["total"] == 3
    top = queue["calls"][0]
    assert top["severity"] == "high" and top["agent"] == "amy" and top["account_ref"] == "A2"
    assert top["debtor"] == "王**" and top["campaign"] == {"id": november, "name": "november"}
    assert {"cease_request", "false_legal_threat"} <= set(top["categories"]) and top["open_findings"] >= 2

    async def attempts(query: str) -> list[int]:
        return [c["attempt_id"] for c in (await review.json(f"/api/review/queue?{query}"))["calls"]]
    assert await attempts("agent=bob") == [insult]
    assert await attempts("agent=nobody") == []
    assert await attempts(f"campaign={november}") == [first]
    assert await attempts("category=cease_request") == [first, second]
    assert await attempts("category=harassment_abuse") == [insult]
    page = await review.json("/api/review/queue?limit=1&offset=1")
    assert [c["attempt_id"] for c in page["calls"]] == [second] and page["total"] == 3

    call = await review.json(f"/api/review/calls/{insult}")
    for finding in call["findings"]:
        decided = await review.post(f"/api/review/findings/{finding['id']}/decision",
                                    {"decision": "dismiss", "reason": "quoting a colleague"})
        assert decided.status == 200
    assert await attempts("") == [first, second]
    assert await attempts("state=decided") == [insult]
    assert await attempts("state=all") == [first, second, insult]

    for query in ("limit=0", "limit=201", "offset=-1", "category=rudeness", "state=maybe", "campaign=x",
                  "campaign=99999999999", "agent=" + "a" * 65):
        refused = await review.get(f"/api/review/queue?{query}")
        assert refused.status == 400 and (await refused.json())["error_id"] == "bad_parameter", query


async def test_a_call_shows_masked_debtor_findings_with_times_and_the_transcript_and_its_view_is_audited(
        review: Review, screener: Screener) -> None:
    attempt = seed_flagged_call(review.store, screener, review.recordings, ref="A1", transcripts=review.transcripts)
    json_path(recording_path(review.recordings, attempt, CALL_AT)).unlink()  # Redis holds the copy of record
    call = await review.json(f"/api/review/calls/{attempt}")
    assert call["debtor"] == "王**" and call["number"] == "+86138****5678" and call["agent"] == "amy"
    assert call["outcome"] == "answered" and call["recording_url"] == f"/api/review/calls/{attempt}/recording"
    assert [(s["speaker"], s["start_s"], s["text"]) for s in call["transcript"]["segments"]] == [
        (speaker, start, said) for speaker, start, _, said in THREAT]
    by_category = {f["category"]: f for f in call["findings"]}
    cease = by_category["cease_request"]
    assert (cease["speaker"], cease["start_s"], cease["end_s"], cease["severity"]) == ("debtor", 3.5, 5.5, "low")
    assert cease["excerpt"][cease["span_start"]:cease["span_end"]].lower().startswith("stop calling")
    assert cease["rule"] and cease["status"] == "open" and cease["hold_id"] is not None
    threat = by_category["false_legal_threat"]
    assert (threat["speaker"], threat["start_s"]) == ("agent", 6.0) and threat["reviews"] == []
    assert (cease["segment"], threat["segment"], by_category["missing_disclosure"]["segment"]) == (1, 2, None)
    assert [f["start_s"] for f in call["findings"] if f["start_s"] is not None] == sorted(
        f["start_s"] for f in call["findings"] if f["start_s"] is not None)
    (viewed,) = review.audits("personal_data.viewed")
    assert (viewed.actor, viewed.entity_id, viewed.details["what"]) == ("qa1", str(attempt), "call")

    missing = await review.get("/api/review/calls/9999")
    assert missing.status == 404 and (await missing.json())["error_id"] == "not_found"


async def test_the_transcript_beside_the_recording_serves_when_redis_holds_none(review: Review,
                                                                                 screener: Screener) -> None:
    attempt = seed_flagged_call(review.store, screener, review.recordings, ref="A1", lines=INSULT)
    call = await review.json(f"/api/review/calls/{attempt}")
    assert [s["text"] for s in call["transcript"]["segments"]] == [INSULT[0][3]]


async def test_the_recording_is_served_in_ranges_from_inside_the_recordings_directory_only(
        review: Review, screener: Screener, tmp_path: Path) -> None:
    attempt = seed_flagged_call(review.store, screener, review.recordings, ref="A1")
    whole = await review.get(f"/api/review/calls/{attempt}/recording")
    data = await whole.read()
    assert whole.status == 200 and whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Content-Type"] == "audio/wav" and whole.headers["Cache-Control"] == "no-store"
    assert data[:4] == b"RIFF" and data[22] == 2  # two channels: the debtor's and the agent's
    part = await review.get(f"/api/review/calls/{attempt}/recording", headers={"Range": "bytes=100-199"})
    assert part.status == 206 and await part.read() == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert [e.details["range"] for e in review.audits("personal_data.viewed")] == [None, "bytes=100-199"]

    outside = tmp_path / "secret.wav"
    outside.write_bytes(data)
    link = review.recordings / "link.wav"
    link.symlink_to(outside)
    for path in (outside, link, review.recordings / ".." / "secret.wav"):
        with review.store.session() as session:
            set_recording(session, attempt, path)
        refused = await review.get(f"/api/review/calls/{attempt}/recording")
        assert refused.status == 404, path
        assert (await review.json(f"/api/review/calls/{attempt}"))["recording_url"] is None
    assert len(review.audits("personal_data.viewed")) == 2 + 3  # the three call views; no listening


async def test_a_process_without_recordings_says_so(store: Store, clock: StepClock) -> None:
    redis_client = aioredis.from_url(REDIS_URL)
    token = mint_token(store, Role.COMPLIANCE_REVIEWER)
    async with TestClient(TestServer(build_app(store=store, redis_client=redis_client, clock=clock))) as client:
        response = await client.get("/api/review/calls/1/recording", headers=bearer(token))
        assert response.status == 503 and (await response.json())["error_id"] == "unavailable"
        assert (await client.get("/api/review/calls/1", headers=bearer(token))).status == 404  # no attempt 1
    await redis_client.aclose()


async def test_a_decision_needs_a_reason_lands_in_the_store_audited_and_counts_on_the_scorecard(
        review: Review, screener: Screener) -> None:
    attempt = seed_flagged_call(review.store, screener, review.recordings, ref="A1")
    seed_flagged_call(review.store, screener, review.recordings, ref="A2", agent="bob", lines=INSULT)
    call = await review.json(f"/api/review/calls/{attempt}")
    threat = next(f for f in call["findings"] if f["category"] == "false_legal_threat")
    path = f"/api/review/findings/{threat['id']}/decision"
    for body, parameter in (({"decision": "confirm"}, "reason"), ({"decision": "confirm", "reason": "  "}, "reason"),
                            ({"decision": "approve", "reason": "x"}, "decision"),
                            ({"decision": "confirm", "reason": "r" * 1001}, "reason")):
        refused = await review.post(path, body)
        assert refused.status == 400 and (await refused.json())["details"]["parameter"] == parameter, body
    assert review.audits("screening.reviewed") == []

    decided = await review.post(path, {"decision": "confirm", "reason": "a threat of arrest"})
    assert decided.status == 200
    finding = await decided.json()
    assert finding["status"] == "confirmed" and finding["reviews"][0]["reviewer"] == "qa1"
    assert finding["reviews"][0]["reason"] == "a threat of arrest"
    (audited,) = review.audits("screening.reviewed")
    assert (audited.actor, audited.details["decision"], audited.details["note"]) == (
        "qa1", "confirmed", "a threat of arrest")
    missing = await review.post("/api/review/findings/99999/decision", {"decision": "confirm", "reason": "x"})
    assert missing.status == 404

    cards = {card["agent"]: card for card in (await review.json("/api/review/scorecards"))["agents"]}
    assert cards["amy"]["calls_screened"] == 1 and cards["amy"]["decided"] == 1
    assert cards["amy"]["confirmed_rate"] == 1.0 and cards["amy"]["findings"] == {
        "false_legal_threat": {"confirmed": 1, "needs_coaching": 0}}
    assert cards["bob"]["calls_screened"] == 1 and cards["bob"]["confirmed_rate"] is None


async def test_the_receipt_of_an_attempt_is_dunline_why_as_json(review: Review, screener: Screener) -> None:
    attempt = seed_flagged_call(review.store, screener, review.recordings, ref="A1")
    shown = await review.json(f"/api/attempts/{attempt}/receipt")
    assert shown["attempt"]["number"] == "+86138****5678" and shown["receipt"]["verdict"] == "allowed"
    assert shown["lines"][0].startswith("verdict: ALLOWED") and any("[ok  ]" in line for line in shown["lines"])
    assert "+8613812345678" not in str(shown)
    assert (await review.get("/api/attempts/99999/receipt")).status == 404
    assert (await review.get("/api/attempts/0/receipt")).status == 400


async def test_only_reviewers_and_admins_review(review: Review, screener: Screener) -> None:
    attempt = seed_flagged_call(review.store, screener, review.recordings, ref="A1")
    paths = ("/api/review/queue", f"/api/review/calls/{attempt}", f"/api/review/calls/{attempt}/recording",
             "/api/review/scorecards", f"/api/attempts/{attempt}/receipt")
    for role in ("agent", "supervisor", "manager"):
        for path in paths:
            assert (await review.get(path, role)).status == 403, (role, path)
        refused = await review.post("/api/review/findings/1/decision", {"decision": "confirm", "reason": "x"}, role)
        assert refused.status == 403
    for path in paths:
        assert (await review.get(path, "admin")).status == 200, path
        assert (await review.client.get(path)).status == 401, path


async def test_the_reviewer_pages_render_in_both_languages_with_data_as_text(review: Review,
                                                                             screener: Screener) -> None:
    attempt = seed_flagged_call(review.store, screener, review.recordings, ref="A1", agent="<script>alert(1)</script>")
    pages = ("/review", f"/review/calls/{attempt}", "/review/scorecards", f"/review/attempts/{attempt}/receipt",
             "/holds")
    for lang, words in (("zh", ("质检队列", "通话", "坐席评分卡", "拨号凭据", "暂停催收")),
                        ("en", ("Review queue", "Call", "Agent scorecards", "Dial receipt", "Holds"))):
        for path, word in zip(pages, words):
            response = await review.get(f"{path}?lang={lang}")
            html = await response.text()
            assert response.status == 200 and response.content_type == "text/html", (path, html[-500:])
            assert word in html and "<script>alert" not in html, path
    queue = await (await review.get("/review?lang=en")).text()
    assert f'href="/review/calls/{attempt}"' in queue and "&lt;script&gt;alert(1)&lt;/script&gt;" in queue
    assert "False legal threat" in queue
    receipt = await (await review.get(f"/review/attempts/{attempt}/receipt?lang=en")).text()
    assert "ALLOWED" in receipt and "+8613812345678" not in receipt
    assert (await review.get("/review/calls/0")).status == 400
    for role in ("agent", "manager"):
        for path in pages:
            assert (await review.get(path, role)).status == 403, (role, path)
    assert (await review.get("/holds", "supervisor")).status == 200
    assert (await review.get("/review", "supervisor")).status == 403
