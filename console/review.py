"""The compliance reviewer's API: the review queue, a flagged call (findings, transcript, recording), the
reviewer's decision, per-agent scorecards and the dial receipt of any attempt (`dunline why` as JSON). The
readers serve the pages too (`console.review_pages`, which registers these routes).

The debtor leaves masked. What a call holds beyond that (what was said, the recording) is personal data a
reviewer needs to judge: each view of it is audited (`personal_data.viewed`) under the reviewer, as is every
decision (`compliance.screening.review.review_finding`). A recording is served only from inside the
recordings directory, whatever path its attempt row names, with HTTP ranges so that the browser can seek.

Transcripts are read where the after-call step keeps them: the Redis copy of record, else the file beside
the recording (`recordings.transcripts`).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.aftercall import aftercall_job_id
from cases import Store
from cases.audit import record
from cases.masking import mask_name, mask_phone
from cases.models import Account, Attempt, Campaign, Debtor, User
from cases.models.screening import Decision, ScreeningFinding, ScreeningReview
from compliance import explain
from compliance.screening.categories import Category
from compliance.screening.review import (
    FlaggedCall,
    QueueFilter,
    ScreeningError,
    Scorecard,
    agent_names,
    call_findings,
    count_flagged_calls,
    flagged_calls,
    review_finding,
    scorecards,
)
from console.access import acting_user
from console.common import RedisKey, StoreKey, json_body
from console.errors import Unavailable
from console.holds import MAX_OFFSET, MAX_PAGE, MAX_ROW_ID, reason_of, row_id
from console.validation import choice, integer, required, text
from crypto import CryptoError, MasterKeys
from crypto.sealed import CHUNK_BYTES
from recordings.storage import open_recording, sealed_path
from recordings.transcripts import (
    TRANSCRIPT_PREFIX,
    RecordingTranscript,
    decode_transcript,
    read_transcript_file,
    transcript_file,
)
from speech.transcribe import Segment

RecordingsKey = web.AppKey("recordings", Path)  # where calls are recorded; set by the composition root
TranscriptPrefixKey = web.AppKey("transcript_prefix", str)  # the transcripts' Redis prefix, if not the default
MasterKeysKey = web.AppKey("master_keys", MasterKeys)  # opens sealed recordings; set by the composition root
STATES = {"undecided": False, "decided": True, "all": None}
DECISIONS = {"confirm": Decision.CONFIRMED, "dismiss": Decision.FALSE_POSITIVE}


def recording_file(recordings: Path, stored: str | None) -> Path | None:
    """`stored`, or its sealed name (a recording sealed as written, whose row still names the plain file while
    its call is up or after a crash), when it is a regular file inside `recordings`, links resolved first (a
    link out is refused)."""
    if not stored:
        return None
    for path in (Path(stored).resolve(), sealed_path(Path(stored)).resolve()):
        if path.is_relative_to(recordings.resolve()) and path.is_file():
            return path
    return None


def _viewed(session: Session, actor: str, attempt_id: int, what: str, **details: Any) -> None:
    record(session, actor=actor, action="personal_data.viewed", entity="attempt", entity_id=attempt_id,
           details={"what": what, **details})


def _queue_json(session: Session, calls: list[FlaggedCall]) -> list[dict[str, Any]]:
    ids = [call.attempt_id for call in calls]
    seen = {row.id: row for row in session.execute(
        select(Attempt.id, Attempt.started_at, Account.account_ref, Debtor.full_name)
        .join(Account, Account.id == Attempt.account_id).join(Debtor, Debtor.id == Account.debtor_id)
        .where(Attempt.id.in_(ids)))}
    agents = agent_names(session, (call.agent_id for call in calls))
    campaigns = _campaign_names(session, (call.campaign_id for call in calls))
    return [{"attempt_id": call.attempt_id, "account_id": call.account_id,
             "account_ref": seen[call.attempt_id].account_ref, "debtor": mask_name(seen[call.attempt_id].full_name),
             "agent": agents.get(call.agent_id or 0), "campaign": campaigns.get(call.campaign_id or 0),
             "severity": call.severity.label, "categories": [c.value for c in call.categories],
             "open_findings": call.open_findings, "flagged_at": call.flagged_at.isoformat(),
             "started_at": seen[call.attempt_id].started_at.isoformat()} for call in calls]


def _campaign_names(session: Session, ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = {i for i in ids if i is not None}
    rows = session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(wanted))).all() if wanted else []
    return {row.id: {"id": row.id, "name": row.name} for row in rows}


@dataclass(frozen=True)
class QueueQuery:
    agent: str | None  # a username, resolved in the read
    where: QueueFilter
    limit: int
    offset: int


def queue_query(query: Mapping[str, str]) -> QueueQuery:
    """The queue's filters and page from a query string, bounded."""
    return QueueQuery(
        agent=text(query["agent"], "agent", max_length=64) if query.get("agent") else None,
        where=QueueFilter(
            category=Category(choice(query["category"], "category", [c.value for c in Category]))
            if query.get("category") else None,
            campaign_id=integer(query["campaign"], "campaign", minimum=1, maximum=MAX_ROW_ID)
            if query.get("campaign") else None,
            decided=STATES[choice(query.get("state", "undecided"), "state", STATES)]),
        limit=integer(query.get("limit", "50"), "limit", minimum=1, maximum=MAX_PAGE),
        offset=integer(query.get("offset", "0"), "offset", minimum=0, maximum=MAX_OFFSET))


def read_queue(store: Store, asked: QueueQuery) -> dict[str, Any]:
    """{total, calls}: one page of the queue (an agent who does not exist has no calls)."""
    with store.reading() as session:
        where = asked.where
        if asked.agent is not None:
            agent_id = session.scalar(select(User.id).where(User.username == asked.agent))
            if agent_id is None:
                return {"total": 0, "calls": []}
            where = replace(where, agent_id=agent_id)
        calls = flagged_calls(session, where, limit=asked.limit, offset=asked.offset)
        return {"total": count_flagged_calls(session, where), "calls": _queue_json(session, calls)}


async def review_queue(request: web.Request) -> web.Response:
    asked = queue_query(request.query)
    return web.json_response(await asyncio.to_thread(read_queue, request.app[StoreKey], asked))


def finding_json(finding: ScreeningFinding, reviews: list[ScreeningReview]) -> dict[str, Any]:
    return {"id": finding.id, "category": finding.category, "rule": finding.source, "severity": finding.severity,
            "speaker": finding.speaker, "start_s": finding.start_s, "end_s": finding.end_s,
            "span_start": finding.span_start, "span_end": finding.span_end, "excerpt": finding.excerpt,
            "status": finding.status.value, "hold_id": finding.hold_id,
            "reviews": [{"reviewer": r.reviewer, "decision": r.decision.value, "reason": r.note,
                         "at": r.at.isoformat()} for r in reviews]}


def _reviews(session: Session, finding_ids: list[int]) -> dict[int, list[ScreeningReview]]:
    reviews: dict[int, list[ScreeningReview]] = {}
    for review in session.scalars(select(ScreeningReview).where(ScreeningReview.finding_id.in_(finding_ids))
                                  .order_by(ScreeningReview.id)):
        reviews.setdefault(review.finding_id, []).append(review)
    return reviews


def _call_json(session: Session, attempt: Attempt) -> dict[str, Any]:
    account = session.get(Account, attempt.account_id)
    assert account is not None  # attempts.account_id is a foreign key
    debtor = session.get(Debtor, account.debtor_id)
    assert debtor is not None
    findings = call_findings(session, attempt.id)
    reviews = _reviews(session, [f.id for f in findings])
    return {
        "attempt_id": attempt.id, "account_id": account.id, "account_ref": account.account_ref,
        "debtor": mask_name(debtor.full_name), "number": mask_phone(attempt.number_e164),
        "agent": agent_names(session, [attempt.agent_id]).get(attempt.agent_id or 0),
        "campaign": _campaign_names(session, [attempt.campaign_id]).get(attempt.campaign_id or 0),
        "started_at": attempt.started_at.isoformat(), "outcome": attempt.outcome.value,
        "answered_at": attempt.answered_at.isoformat() if attempt.answered_at else None,
        "ended_at": attempt.ended_at.isoformat() if attempt.ended_at else None, "disposition": attempt.disposition,
        "findings": [finding_json(f, reviews.get(f.id, [])) for f in findings],
    }


async def _transcript(request: web.Request, attempt_id: int, recording: Path | None) -> RecordingTranscript | None:
    """The Redis copy of record, else the file beside the (checked) recording, in its directory."""
    prefix = request.app.get(TranscriptPrefixKey, TRANSCRIPT_PREFIX)
    stored = await request.app[RedisKey].get(f"{prefix}:{aftercall_job_id(attempt_id)}")
    if stored is not None:
        return decode_transcript(stored, request.app.get(MasterKeysKey))
    beside = recording_file(recording.parent, str(transcript_file(recording))) if recording is not None else None
    return None if beside is None else await asyncio.to_thread(read_transcript_file, beside,
                                                                   request.app.get(MasterKeysKey))


async def review_call(request: web.Request) -> web.Response:
    attempt_id, actor = row_id(request, "attempt"), acting_user(request).username
    recordings, store = request.app.get(RecordingsKey), request.app[StoreKey]  # without: the call, not its audio

    def read() -> tuple[dict[str, Any], Path | None] | None:
        with store.session() as session:
            attempt = session.get(Attempt, attempt_id)
            if attempt is None:
                return None
            _viewed(session, actor, attempt_id, "call")
            recording = recording_file(recordings, attempt.recording_path) if recordings is not None else None
            return _call_json(session, attempt), recording
    found = await asyncio.to_thread(read)
    if found is None:
        raise web.HTTPNotFound(reason=f"no attempt {attempt_id}")
    call, recording = found
    transcript = await _transcript(request, attempt_id, recording)
    call["recording_url"] = f"/api/review/calls/{attempt_id}/recording" if recording is not None else None
    call["transcript"] = None if transcript is None else {
        "language": transcript.transcript.language, "duration_s": transcript.transcript.duration_s,
        "segments": [{"speaker": s.speaker, "start_s": s.start_s, "end_s": s.end_s, "text": s.text}
                     for s in transcript.transcript.segments]}
    segments = transcript.transcript.segments if transcript is not None else ()
    for finding in call["findings"]:
        finding["segment"] = _segment_of(segments, finding)
    return web.json_response(call)


def _segment_of(segments: tuple[Segment, ...], finding: dict[str, Any]) -> int | None:
    """The transcript segment a finding's span lies in (its utterance was that segment, same times), for the
    page to mark the words; None for a finding about the whole call (a missing disclosure)."""
    if finding["span_start"] is None:
        return None
    return next((n for n, segment in enumerate(segments)
                 if (segment.start_s, segment.end_s) == (finding["start_s"], finding["end_s"])), None)


async def call_recording(request: web.Request) -> web.StreamResponse:
    """The stereo WAV as recorded, decrypted on the fly when sealed (only the chunks a range touches), with
    Range requests answered (206) so that the player can seek. A key that is missing or wrong, or a file cut
    short, answers 503 naming the key id or the fault, and nothing of the file. Every request is audited: a
    player that seeks asks again, and each is a listening."""
    attempt_id, actor = row_id(request, "attempt"), acting_user(request).username
    recordings, store = request.app.get(RecordingsKey), request.app[StoreKey]
    if recordings is None:
        raise Unavailable("this process keeps no call recordings; ask the `dunline serve` node")
    asked = request.headers.get("Range", "")[:64]

    def find() -> Path | None:
        with store.session() as session:
            attempt = session.get(Attempt, attempt_id)
            path = recording_file(recordings, attempt.recording_path) if attempt is not None else None
            if path is not None:
                _viewed(session, actor, attempt_id, "recording", range=asked or None)
            return path
    path = await asyncio.to_thread(find)
    if path is None:
        raise web.HTTPNotFound(reason=f"no recording for attempt {attempt_id}")
    try:
        reader = await asyncio.to_thread(open_recording, path, request.app.get(MasterKeysKey))
    except CryptoError as error:
        raise Unavailable(f"recording of attempt {attempt_id} cannot be opened: {error}") from None
    try:
        return await _ranged_response(request, reader)
    finally:
        reader.close()


def _byte_range(request: web.Request, size: int) -> tuple[int, int] | None:
    """(start, stop) of the Range asked, None for the whole file (also for a malformed Range, which RFC 9110
    §14.2 lets a server ignore); 416 for a range wholly past the end."""
    try:
        asked = request.http_range
    except ValueError:
        return None
    if asked.start is None and asked.stop is None:
        return None
    start = asked.start or 0
    start = max(0, size + start) if start < 0 else start  # bytes=-N: the last N
    stop = size if asked.stop is None else min(asked.stop, size)
    if start >= stop:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, stop


async def _ranged_response(request: web.Request, reader: BinaryIO) -> web.StreamResponse:
    """The recording's plain bytes (the range asked), read (decrypted) chunk by chunk off the event loop."""
    size = await asyncio.to_thread(reader.seek, 0, io.SEEK_END)
    span = _byte_range(request, size)
    start, stop = span or (0, size)
    response = web.StreamResponse(status=200 if span is None else 206, headers={
        "Content-Type": "audio/wav", "Cache-Control": "no-store", "Accept-Ranges": "bytes"})
    if span is not None:
        response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    response.content_length = stop - start
    await response.prepare(request)
    reader.seek(start)
    while start < stop and (piece := await asyncio.to_thread(reader.read, min(CHUNK_BYTES, stop - start))):
        await response.write(piece)
        start += len(piece)
    await response.write_eof()
    return response


async def decide(request: web.Request) -> web.Response:
    finding_id, reviewer = row_id(request, "finding"), acting_user(request).username
    body = await json_body(request)
    decision = DECISIONS[choice(required(body, "decision"), "decision", DECISIONS)]
    reason = reason_of(body)
    store = request.app[StoreKey]

    def write() -> dict[str, Any] | None:
        with store.session() as session:
            try:
                review_finding(session, finding_id, reviewer=reviewer, decision=decision, note=reason)
            except ScreeningError:
                return None
            finding = session.get(ScreeningFinding, finding_id)
            assert finding is not None
            return finding_json(finding, _reviews(session, [finding_id]).get(finding_id, []))
    decided = await asyncio.to_thread(write)
    if decided is None:
        raise web.HTTPNotFound(reason=f"no finding {finding_id}")
    return web.json_response(decided)


def _scorecard_json(card: Scorecard, name: str | None) -> dict[str, Any]:
    return {"agent": name, "agent_id": card.agent_id, "calls_screened": card.calls_screened,
            "decided": card.decided, "upheld": card.upheld,
            "confirmed_rate": None if card.confirmed_rate is None else round(card.confirmed_rate, 4),
            "findings": {t.category.value: {"confirmed": t.confirmed, "needs_coaching": t.needs_coaching}
                         for t in card.tallies}}


def read_scorecards(store: Store) -> list[dict[str, Any]]:
    with store.reading() as session:
        cards = scorecards(session)
        names = agent_names(session, (card.agent_id for card in cards))
        return [_scorecard_json(card, names.get(card.agent_id)) for card in cards]


async def review_scorecards(request: web.Request) -> web.Response:
    return web.json_response({"agents": await asyncio.to_thread(read_scorecards, request.app[StoreKey])})


def read_receipt(store: Store, attempt_id: int) -> dict[str, Any]:
    """The receipt the pre-dial gate stored with the attempt, and its reading as `dunline why` prints it."""
    with store.reading() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            raise web.HTTPNotFound(reason=f"no attempt {attempt_id}")
        return {"attempt": {"id": attempt.id, "account_id": attempt.account_id,
                            "number": mask_phone(attempt.number_e164), "campaign_id": attempt.campaign_id,
                            "started_at": attempt.started_at.isoformat(), "outcome": attempt.outcome.value},
                "receipt": attempt.receipt, "lines": explain(attempt.receipt)}


async def attempt_receipt(request: web.Request) -> web.Response:
    found = await asyncio.to_thread(read_receipt, request.app[StoreKey], row_id(request, "attempt"))
    return web.json_response(found)
