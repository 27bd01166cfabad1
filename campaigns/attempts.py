"""Every write to an attempt row: its claim (the in-flight row with the gate's receipt), the recording it will
have, the conversation mark, the close, the interruption of one whose runner died, and its after-call job.
One module, so the row has one writer and its life reads in one place:

    claimed in flight (recording path set before the INVITE) → closed with its outcome, or interrupted by
    recovery → after-call job queued when it has a recording → done once transcribed and screened.

Functions of a session: the caller owns the transaction (the runner's writer, recovery, the after-call);
`claim` alone opens its own, since the gate's decision and the row must share one locked transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.lease import live_campaigns
from cases import Store
from cases.audit import record
from cases.models import AfterCallState, Attempt, AttemptOutcome, User
from compliance.decision import Decision, refusal
from compliance.facts import CampaignFacts
from compliance.gate import ComplianceGate
from dialer.sip.outcome import CallResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallEnd:
    """What the runner knows when a call ends, written later if the store is away at that moment."""

    outcome: AttemptOutcome
    ended_at: datetime
    sip_code: int | None = None
    answered_at: datetime | None = None
    recording: Path | None = None  # None: nothing was recorded
    disposition: str | None = None
    agent: str | None = None  # the username of the agent the call was bridged to


def outcome_of(result: CallResult) -> AttemptOutcome:
    """The attempt outcome a call's SIP result stands for (answered calls are refined by routing). The dialer
    cancels a call only when its ring time runs out, so for the attempt a cancelled call is one nobody answered."""
    if result is CallResult.CANCELLED:
        return AttemptOutcome.NO_ANSWER
    return AttemptOutcome(result.value)


def claim(store: Store, gate: ComplianceGate, account_id: int, phone_id: int, now: datetime,
          campaign: CampaignFacts) -> tuple[Decision, int | None]:
    """Ask the gate and, if it allows the dial, write the in-flight attempt with its receipt in the same locked
    transaction. Returns the decision and the attempt id (None when refused). Anything that goes wrong refuses:
    the dial fails closed."""
    try:
        with store.session() as session:
            decision, fact = gate.decide_locked(session, account_id, phone_id, now, campaign)
            if fact is None:
                return decision, None
            attempt = Attempt(account_id=account_id, phone_id=phone_id, number_e164=fact.e164,
                              campaign_id=campaign.campaign_id, started_at=now, outcome=AttemptOutcome.IN_FLIGHT,
                              receipt=decision.receipt)
            session.add(attempt)
            session.flush()
            return decision, attempt.id
    except Exception as error:
        log.exception("could not claim a dial")
        return refusal(f"gate error while claiming: {error.__class__.__name__}: {error}", now,
                       {"account_id": account_id, "phone_id": phone_id}), None


def recording_path(recordings: Path, attempt_id: int, now: datetime) -> Path:
    """Where an attempt's recording goes: `<recordings>/YYYY/MM/DD/<attempt>.wav`."""
    return recordings / f"{now:%Y/%m/%d}" / f"{attempt_id}.wav"


def set_recording(session: Session, attempt_id: int, path: Path) -> None:
    """Link the recording before the call is placed, so a killed process leaves no recording unlinked."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is not None:
        attempt.recording_path = str(path)


def recording_destroyed(session: Session, attempt_id: int, *, actor: str, details: dict[str, Any],
                        cleared: bool) -> None:
    """Audit the destruction of a call's recording or transcript (campaigns.destruction); `cleared`: nothing of
    either is left, so the row stops naming a recording."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        return
    if cleared:
        attempt.recording_path = None
    record(session, actor=actor, action="retention.destroyed", entity="attempt", entity_id=attempt_id,
           details=details)


def mark_conversation(session: Session, attempt_id: int) -> None:
    attempt = session.get(Attempt, attempt_id)
    if attempt is not None:
        attempt.conversation = True


def close(session: Session, attempt_id: int, end: CallEnd) -> Attempt | None:
    """Close the attempt with its outcome; a recording gets its after-call job in the same transaction."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        return None
    attempt.outcome, attempt.ended_at = end.outcome, end.ended_at
    if end.sip_code is not None:
        attempt.sip_code = end.sip_code
    if end.answered_at is not None:
        attempt.answered_at = end.answered_at
    attempt.recording_path = str(end.recording) if end.recording else None
    attempt.aftercall = AfterCallState.QUEUED if end.recording else None
    attempt.disposition = end.disposition
    if end.agent is not None:
        attempt.agent_id = session.scalar(select(User.id).where(User.username == end.agent))
    record(session, actor="dialer", action="attempt.closed", entity="attempt", entity_id=attempt_id,
           details={"outcome": end.outcome.value, "sip_code": attempt.sip_code, "disposition": attempt.disposition,
                    "conversation": attempt.conversation, "recording": attempt.recording_path,
                    "agent": end.agent})
    return attempt


def set_disposition(session: Session, attempt: Attempt, code: str, *, actor: str) -> None:
    """The agent's disposition of a closed call (the agent desktop's, at wrap-up). Only once closed: the close
    writes the runner's own disposition, which would overwrite one given while the call was up."""
    if attempt.outcome is AttemptOutcome.IN_FLIGHT:
        raise ValueError(f"attempt {attempt.id} is still in flight")
    before, attempt.disposition = attempt.disposition, code
    record(session, actor=actor, action="attempt.disposition", entity="attempt", entity_id=attempt.id,
           details={"disposition": code, "before": before})


def interrupt_orphans(session: Session, now: datetime, *, wall_now: datetime, campaign_id: int | None = None,
                      actor: str = "recovery") -> list[int]:
    """Close as interrupted the in-flight attempts whose runner is gone: those of campaigns without a live
    lease at `wall_now` (campaign `campaign_id`'s lease is the caller's, so its attempts are a dead run's).
    Attempts of campaigns run by a live runner are left alone."""
    live = live_campaigns(session, wall_now, but=campaign_id)
    query = select(Attempt).where(Attempt.outcome == AttemptOutcome.IN_FLIGHT)
    if live:
        query = query.where(Attempt.campaign_id.is_(None) | Attempt.campaign_id.not_in(live))
    attempts = session.scalars(query.with_for_update()).all()
    for attempt in attempts:
        attempt.outcome, attempt.ended_at = AttemptOutcome.INTERRUPTED, now
        record(session, actor=actor, action="attempt.interrupted", entity="attempt", entity_id=attempt.id,
               details={"campaign_id": attempt.campaign_id, "started_at": attempt.started_at.isoformat()})
    return [attempt.id for attempt in attempts]


def queue_aftercalls(session: Session) -> list[int]:
    """The start-up sweep: every closed or interrupted attempt with a recording on disk and no after-call
    job gets one (a recording path whose file never came to be, no audio before the crash, is cleared).
    Idempotent: the job is the attempt row's own state, so a second sweep finds nothing to queue."""
    attempts = session.scalars(select(Attempt).where(
        Attempt.outcome != AttemptOutcome.IN_FLIGHT, Attempt.recording_path.is_not(None),
        Attempt.aftercall.is_(None)).with_for_update()).all()
    queued = []
    for attempt in attempts:
        if attempt.recording_path and Path(attempt.recording_path).exists():
            attempt.aftercall = AfterCallState.QUEUED
            queued.append(attempt.id)
        else:
            attempt.recording_path = None
    return queued


def queued_aftercalls(session: Session, *, campaign_id: int | None = None,
                      limit: int | None = 100) -> list[tuple[int, Path]]:
    """After-call jobs waiting (a campaign's, or all), oldest first: (attempt id, recording)."""
    query = select(Attempt.id, Attempt.recording_path).where(Attempt.aftercall == AfterCallState.QUEUED)
    if campaign_id is not None:
        query = query.where(Attempt.campaign_id == campaign_id)
    rows = session.execute(query.order_by(Attempt.id).limit(limit)).all()
    return [(row.id, Path(row.recording_path)) for row in rows if row.recording_path]


def unsealed_recordings(session: Session) -> list[tuple[int, Path]]:
    """Attempts done with their after-call step whose recording is still plain on disk (made while no master
    key was configured, or before recordings were sealed): (attempt id, recording)."""
    rows = session.execute(select(Attempt.id, Attempt.recording_path).where(
        Attempt.aftercall == AfterCallState.DONE, Attempt.recording_path.is_not(None),
        Attempt.recording_path.not_like("%.sealed")).order_by(Attempt.id)).all()
    return [(row.id, Path(row.recording_path)) for row in rows if Path(row.recording_path).exists()]


def aftercall_pending(session: Session, attempt_id: int) -> bool:
    """Lock the attempt row for its after-call step; True while that step is still to do (two workers that
    finish the same job one after the other screen it once)."""
    attempt = session.get(Attempt, attempt_id, with_for_update=True)
    return attempt is not None and attempt.aftercall is AfterCallState.QUEUED


def aftercall_done(session: Session, attempt_id: int) -> None:
    attempt = session.get(Attempt, attempt_id)
    if attempt is not None:
        attempt.aftercall = AfterCallState.DONE
