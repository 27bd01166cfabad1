"""Every write to an attempt row: its claim (the in-flight row with the gate's receipt), the recording it will
have, the conversation mark, the close, the interruption of one whose runner died, and its after-call job.
One module, so the row has one writer and its life reads in one place:

    claimed in flight (recording path set before the INVITE) → closed with its outcome, or interrupted by
    recovery → after-call job queued when it has a recording → done once transcribed and screened → deleted
    past its retention (`destroy`).

Functions of a session: the caller owns the transaction (the runner's writer, recovery, the after-call);
`claim` alone opens its own, since the gate's decision and the row must share one locked transaction.

A message (SMS, e-mail) is an attempt too, with outcome `message` and a delivery state instead of a close:

    claimed queued with its receipt (`claim_messages`, a batch in one locked transaction) → submitted with the
    provider's id, or failed (`messages_submitted`) → delivered / failed / expired by its receipt
    (`message_receipts`, matched by the provider's id); each move through `messaging.delivery.step`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from campaigns.lease import forget_gone, live_runners
from cases import Store
from cases.audit import AuditDraft, append, record
from cases.models import (Account, AfterCallState, Attempt, AttemptOutcome, Channel, Debtor, MessagePart, Note, Promise,
                          ReminderSent, ScreeningFinding, ScreeningReview, User)
from compliance.decision import Decision, refusal
from compliance.facts import CampaignFacts, MessageFacts
from compliance.gate import ComplianceGate
from dialer.sip.outcome import CallResult
from messaging.delivery import DeliveryEvent, DeliveryState, IllegalTransition, receipt_event, step
from recordings.storage import recording_exists

log = logging.getLogger(__name__)
DESTROY_BATCH = 1000  # ids in one IN list: far below SQLite's and PostgreSQL's bound parameter limits


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
          campaign: CampaignFacts, *, arm: str | None = None, owner: str | None = None,
          due: Callable[[Session], bool] | None = None) -> tuple[Decision, int | None]:
    """Ask the gate and, if it allows the dial, write the in-flight attempt with its receipt in the same locked
    transaction. Returns the decision and the attempt id (None when refused). Anything that goes wrong refuses:
    the dial fails closed. `arm`: the champion/challenger arm whose strategy chose the lead (the hopper's);
    `owner`: the runner claiming it (its lease's owner), whose death recovery waits for before closing it;
    `due`: the campaign's own test that the case is still due, asked under the lock (the hopper's rest after
    the last call: a lead another node dialled and closed since it was fetched is not dialled again).

    Across nodes the case's account row is the claim: taken with SKIP LOCKED, so a node that finds another
    deciding on the same case right now refuses at once instead of queueing behind it, and a node that comes
    after sees the in-flight attempt (the gate's `not_in_flight`) and the caps it counts. Either way one case
    is never handed to two nodes. SQLite has one writer at a time and needs no row lock."""
    try:
        with store.session() as session:
            if session.execute(select(Account.id).where(Account.id == account_id)
                               .with_for_update(skip_locked=True)).first() is None:
                return refusal("case being claimed by another runner", now,
                               {"account_id": account_id, "phone_id": phone_id}), None
            if due is not None and not due(session):
                return refusal("case called since it was chosen; resting", now,
                               {"account_id": account_id, "phone_id": phone_id}), None
            decision, fact = gate.decide_locked(session, account_id, phone_id, now, campaign)
            if fact is None:
                return decision, None
            attempt = Attempt(account_id=account_id, phone_id=phone_id, number_e164=fact.e164,
                              campaign_id=campaign.campaign_id, started_at=now, outcome=AttemptOutcome.IN_FLIGHT,
                              receipt=decision.receipt, arm=arm, owner=owner)
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


def interrupt_orphans(session: Session, now: datetime, *, wall_now: datetime, but: tuple[int, str] | None = None,
                      actor: str = "recovery") -> list[int]:
    """Close as interrupted the in-flight attempts whose runner is gone at `wall_now`: an attempt with an owner,
    once that runner's lease on its campaign is not live; one without (claimed before attempts named their
    runner), once no runner of its campaign is. `but`: the caller's own lease, just taken, so attempts under it
    are a dead run's. Then the gone runners' leases are deleted. Attempts of live runners are left alone: one
    node's crash closes its own calls, not the floor's."""
    live = live_runners(session, wall_now, but=but)
    running = {campaign_id for campaign_id, _ in live}
    attempts = [attempt for attempt in session.scalars(select(Attempt).where(
        Attempt.outcome == AttemptOutcome.IN_FLIGHT).with_for_update()).all()
        if (attempt.campaign_id, attempt.owner) not in live
        and (attempt.owner is not None or attempt.campaign_id not in running)]
    forget_gone(session, wall_now)
    for attempt in attempts:
        attempt.outcome, attempt.ended_at = AttemptOutcome.INTERRUPTED, now
        record(session, actor=actor, action="attempt.interrupted", entity="attempt", entity_id=attempt.id,
               details={"campaign_id": attempt.campaign_id, "owner": attempt.owner,
                        "started_at": attempt.started_at.isoformat()})
    return [attempt.id for attempt in attempts]


def queue_aftercalls(session: Session) -> list[int]:
    """The start-up sweep: every closed or interrupted attempt with a recording on disk (plain, or sealed as it
    was written) and no after-call job gets one (a recording path whose file never came to be, no audio before
    the crash, is cleared).
    Idempotent: the job is the attempt row's own state, so a second sweep finds nothing to queue."""
    attempts = session.scalars(select(Attempt).where(
        Attempt.outcome != AttemptOutcome.IN_FLIGHT, Attempt.recording_path.is_not(None),
        Attempt.aftercall.is_(None)).with_for_update()).all()
    queued = []
    for attempt in attempts:
        if attempt.recording_path and recording_exists(Path(attempt.recording_path)):
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


def destroy(session: Session, attempt_ids: Sequence[int]) -> None:
    """Delete attempt rows past their retention (`campaigns.destruction`, whose docstring says why rows are
    deleted rather than blanked), with what exists only because of them: their notes and their screening
    findings with the reviews of those. A promise or reminder made on one is the case's record, kept with the
    case: it only stops naming the attempt. The caller has destroyed the recording and transcript first."""
    for start in range(0, len(attempt_ids), DESTROY_BATCH):
        ids = list(attempt_ids[start:start + DESTROY_BATCH])
        findings = select(ScreeningFinding.id).where(ScreeningFinding.attempt_id.in_(ids))
        session.execute(delete(ScreeningReview).where(ScreeningReview.finding_id.in_(findings)))
        session.execute(delete(ScreeningFinding).where(ScreeningFinding.attempt_id.in_(ids)))
        session.execute(delete(Note).where(Note.attempt_id.in_(ids)))
        session.execute(delete(MessagePart).where(MessagePart.attempt_id.in_(ids)))
        session.execute(update(Promise).where(Promise.attempt_id.in_(ids)).values(attempt_id=None))
        session.execute(update(ReminderSent).where(ReminderSent.attempt_id.in_(ids)).values(attempt_id=None))
        session.execute(delete(Attempt).where(Attempt.id.in_(ids)))


# --- messages ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MessageClaim:
    """One message to claim: the account, the phone for an SMS (None for an e-mail), the screened text."""

    account_id: int
    phone_id: int | None
    message: MessageFacts


def claim_messages(store: Store, gate: ComplianceGate, claims: list[MessageClaim], now: datetime,
                   campaign: CampaignFacts, *, actor: str) -> list[tuple[Decision, int | None]]:
    """The gate's decision on each message and, for each allowed one, its queued attempt with the receipt, all in
    one transaction with the accounts locked. Returns (decision, attempt id or None) in order; anything that goes
    wrong refuses every message of the batch: sending fails closed."""
    channel = Channel(campaign.channel)
    try:
        with store.session() as session:
            decided = gate.decide_messages_locked(
                session, [(c.account_id, c.phone_id, c.message) for c in claims], now, campaign)
            rows = [{"account_id": c.account_id, "phone_id": c.phone_id, "number_e164": fact.e164,
                     "campaign_id": campaign.campaign_id, "started_at": now, "outcome": AttemptOutcome.MESSAGE,
                     "conversation": False, "channel": channel, "delivery": DeliveryState.QUEUED.value,
                     "address": fact.address, "message_text": c.message.text, "receipt": decision.receipt}
                    for c, (decision, fact) in zip(claims, decided) if fact is not None]
            # One multi-row INSERT ... RETURNING (the ORM's unit of work costs twice as much for a batch of 500).
            ids = iter(session.scalars(insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True),
                                       rows).all() if rows else ())
            claimed = [(decision, next(ids) if fact is not None else None) for decision, fact in decided]
            append(session, [AuditDraft(actor, "message.queued", "attempt", attempt_id,
                                        {"account_id": claim.account_id, "channel": channel.value})
                             for claim, (_, attempt_id) in zip(claims, claimed) if attempt_id is not None])
            return claimed
    except Exception as error:
        log.exception("could not claim messages")
        return [(refusal(f"gate error while claiming: {error.__class__.__name__}: {error}", now,
                         {"account_id": c.account_id, "phone_id": c.phone_id}), None) for c in claims]


def _move(attempt: Attempt, event: DeliveryEvent, at: datetime) -> None:
    before = DeliveryState(attempt.delivery)
    try:
        after = step(before, event)
    except IllegalTransition:
        log.error("message attempt %s: %s in state %s ignored", attempt.id, event.value, before.value)
        return
    if after is not before:
        attempt.delivery = after.value
        if after in (DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.EXPIRED):
            attempt.ended_at = at


def messages_submitted(session: Session, results: list[tuple[int, str | None]], at: datetime) -> None:
    """The provider's answers to submits: (attempt id, its message id, or None when it refused the message)."""
    if not results:
        return
    attempts = {a.id: a for a in session.scalars(select(Attempt).where(
        Attempt.id.in_([attempt_id for attempt_id, _ in results]))).all()}
    for attempt_id, provider_id in results:
        attempt = attempts.get(attempt_id)
        if attempt is None or attempt.delivery is None:
            log.warning("submit result for unknown message attempt %s", attempt_id)
            continue
        if provider_id is not None:
            attempt.provider_message_id = provider_id
        _move(attempt, DeliveryEvent.ACCEPTED if provider_id is not None else DeliveryEvent.REJECTED, at)


def message_parts(session: Session, parts: list[tuple[int, tuple[str, ...]]]) -> None:
    """Each part's provider id of a message sent in parts, (attempt id, ids): a receipt naming any part finds
    the attempt (`message_receipts`), also after a restart."""
    rows = [{"attempt_id": attempt_id, "provider_message_id": part} for attempt_id, ids in parts for part in ids]
    if rows:
        session.execute(insert(MessagePart), rows)


def email_bounced(session: Session, attempt_ids: list[int], at: datetime) -> None:
    """Mark bounced the address each of these e-mail attempts went to, if it is still the debtor's: the gate
    then refuses the next e-mail to it (`compliance.checks.message_recipient`)."""
    if not attempt_ids:
        return
    for debtor_id, address in session.execute(
            select(Account.debtor_id, Attempt.address).join(Account, Account.id == Attempt.account_id)
            .where(Attempt.id.in_(attempt_ids), Attempt.channel == Channel.EMAIL)).all():
        session.execute(update(Debtor).where(Debtor.id == debtor_id, Debtor.email == address)
                        .values(email_bounced_at=at))


def clear_email_bounce(session: Session, account_id: int, *, actor: str, note: str | None = None) -> bool:
    """The account's debtor's e-mail address is working again (the debtor confirmed it, the mailbox was fixed):
    the gate sends to it again. Audited; returns False when the address was not marked bounced."""
    debtor = session.get_one(Debtor, session.get_one(Account, account_id).debtor_id)
    if debtor.email_bounced_at is None:
        return False
    record(session, actor=actor, action="email.bounce_cleared", entity="debtor", entity_id=debtor.id,
           details={"account_id": account_id, "bounced_at": debtor.email_bounced_at.isoformat(), "note": note})
    debtor.email_bounced_at = None
    return True


def message_receipts(session: Session, channel: Channel, receipts: list[tuple[str, str]], at: datetime) -> list[int]:
    """Delivery receipts, (provider message id, stat), matched to their attempts; returns the attempts updated.
    A receipt may name any part of a message sent in parts (`message_parts`); the first receipt of a message
    settles it. A receipt matching no attempt (another system's) is logged."""
    if not receipts:
        return []
    named = [pid for pid, _ in receipts]
    attempts = {a.provider_message_id: a for a in session.scalars(select(Attempt).where(
        Attempt.channel == channel, Attempt.provider_message_id.in_(named))).all()}
    for part, attempt in session.execute(select(MessagePart.provider_message_id, Attempt).join(
            Attempt, Attempt.id == MessagePart.attempt_id).where(
            Attempt.channel == channel, MessagePart.provider_message_id.in_(named))):
        attempts.setdefault(part, attempt)
    updated = []
    for provider_id, stat in receipts:
        attempt = attempts.get(provider_id)
        if attempt is None:
            log.warning("%s receipt for unknown message id %s", channel.value, provider_id)
            continue
        _move(attempt, receipt_event(stat), at)
        updated.append(attempt.id)
    return updated
