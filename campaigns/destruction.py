"""The destruction job (`dunline retention run`, and once a day in `dunline serve`): a call's recording and
transcript, the attempt rows of calls and messages, and closed cases past their retention (recordings/
retention.yaml, by the jurisdiction of the rule pack a call or message was placed under, a case's by its
account's) are destroyed, unless a hold that preserves evidence covers them.

A file's destruction is crypto-shredding (crypto.sealed.shred): the sealed file's wrapped data key is overwritten and
flushed, then the file removed, so no copy of the payload left on a disk block opens with any key; the
transcript's Redis copy is deleted with its file. Each call's destruction is audited (`retention.destroyed`,
in the hash-chained log, with the policy and the law it applied) in the transaction that clears the attempt's
recording path once nothing of it is left; a run's totals are audited too (`retention.run`). A dry run
destroys and records nothing and reports the same.

Attempt rows (calls and messages) past the `attempts` period are deleted, with their notes and screening
findings (`campaigns.attempts.destroy`), once their recording and transcript are gone; closed cases past the
`closed_cases` period are erased with everything on them and their debtor once no account of theirs is left
(`campaigns.erasure`). Rows are deleted, not blanked: a row kept for statistics would still name its account
(the column is mandatory), and through it the debtor, so it would stay personal data past its time (PIPL art.
47, UK GDPR art. 5(1)(e)). What statistics keep is the destruction log's anonymous tally (`DestructionLog`: per
batch, kind and jurisdiction, how many calls and messages of each channel and outcome, or accounts, attempts and
debtors), written with an audit entry naming it in the transaction that deletes the batch. Nothing live loses a
row: the abandon ledger counts 30 days and the reports' windows, the hopper's rests and caps days or weeks,
while every period is two years or more.

Preserving holds: `legal` (proceedings) and `dispute` (the records may be evidence either way), active at the
run's time, on the debtor, account, phone or number (`campaigns.expiry`). Order within a run: files, then
attempts, then closed cases, so what a row names is gone before the row; a dry run reports the same order's
result.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.aftercall import aftercall_job_id
from campaigns.attempts import destroy, recording_destroyed
from campaigns.erasure import erase_cases
from campaigns.expiry import Due, Expiry, Holds, Scope, due_attempts, due_cases, last_activity, preserving_holds
from cases import Store
from cases.audit import record
from cases.models import Account, Attempt, AttemptOutcome, DestructionLog, utcnow
from crypto import is_sealed, key_id_of, shred
from recordings.retention import Anchor, Policy, RecordKind, RetentionPolicies
from recordings.storage import plain_path, sealed_path
from recordings.transcripts import TranscriptStore, json_path

log = logging.getLogger(__name__)

DAY_S = 24 * 3600.0
FILE_KINDS = (RecordKind.RECORDINGS, RecordKind.TRANSCRIPTS)
ROW_BATCH = {RecordKind.ATTEMPTS: 5000, RecordKind.CLOSED_CASES: 500}  # per transaction, log row and audit entry


@dataclass(frozen=True)
class Call:
    """A closed attempt with a recording path, as the job sees it."""

    attempt_id: int
    recording: Path
    started_at: datetime
    jurisdiction: str | None
    last_activity: datetime
    scope: Scope


@dataclass(frozen=True)
class Destroyed:
    attempt_id: int
    kind: RecordKind
    jurisdiction: str
    due: datetime
    files: tuple[str, ...]


@dataclass(frozen=True)
class RowsDestroyed:
    """One batch of attempt rows or closed cases, as its destruction log row says."""

    kind: RecordKind
    jurisdiction: str
    count: int
    tally: dict[str, int]


@dataclass
class RetentionReport:
    destroyed: list[Destroyed] = field(default_factory=list)
    held: set[int] = field(default_factory=set)  # attempts past their time kept by a hold
    no_policy: set[int] = field(default_factory=set)  # attempts of no known jurisdiction: kept
    failed: dict[int, str] = field(default_factory=dict)
    cleared: set[int] = field(default_factory=set)  # attempts left with no recording nor transcript
    rows: list[RowsDestroyed] = field(default_factory=list)
    held_cases: set[int] = field(default_factory=set)  # closed accounts past their time kept by a hold
    waiting: dict[RecordKind, int] = field(default_factory=dict)  # rows past their time whose files remain

    def count(self, kind: RecordKind) -> int:
        return sum(batch.count for batch in self.rows if batch.kind is kind)


def _calls(session: Session, started_before: datetime) -> list[Call]:
    """The calls that may be due: a period runs from the call or later, so none started after `started_before`
    (now less the shortest period)."""
    last = last_activity(session)
    rows = session.execute(
        select(Attempt.id, Attempt.recording_path, Attempt.started_at, Attempt.receipt, Attempt.account_id,
               Attempt.phone_id, Attempt.number_e164, Account.debtor_id)
        .join(Account, Account.id == Attempt.account_id)
        .where(Attempt.recording_path.is_not(None), Attempt.outcome != AttemptOutcome.IN_FLIGHT,
               Attempt.started_at <= started_before)
        .order_by(Attempt.id))
    return [Call(row.id, Path(row.recording_path), row.started_at, ((row.receipt or {}).get("pack") or {}).get("name"),
                 last[row.account_id], (row.debtor_id, row.account_id, row.phone_id, row.number_e164))
            for row in rows]


def _files(recording: Path, kind: RecordKind) -> list[Path]:
    """What is left on disk of a call's record of this kind."""
    base = plain_path(recording) if kind is RecordKind.RECORDINGS else json_path(recording)
    return [path for path in (base, sealed_path(base)) if path.exists()]


def _anchor(call: Call, anchor: Anchor) -> datetime:
    return call.last_activity if anchor is Anchor.LAST_ACTIVITY else call.started_at


def _due(call: Call, policies: RetentionPolicies, now: datetime, report: RetentionReport,
         holds: Holds, transcript_kept: Callable[[int], bool]) -> list[Destroyed]:
    due = []
    for kind in FILE_KINDS:
        policy = policies.policy(call.jurisdiction, kind)
        if policy is None:
            report.no_policy.add(call.attempt_id)
            continue
        when = policy.due(_anchor(call, policy.anchor))
        if when > now:
            continue
        files = _files(call.recording, kind)
        if not files and not (kind is RecordKind.TRANSCRIPTS and transcript_kept(call.attempt_id)):
            continue
        if holds.cover(call.scope):
            report.held.add(call.attempt_id)
            continue
        due.append(Destroyed(call.attempt_id, kind, policy.jurisdiction, when, tuple(str(p) for p in files)))
    return due


class Destruction:
    """The job. `transcripts`: the Redis copies of record (`recordings.transcripts.TranscriptStore`), deleted
    with their files; None where this process has no Redis (their files are still destroyed)."""

    def __init__(self, store: Store, policies: RetentionPolicies, *, transcripts: TranscriptStore | None = None,
                 actor: str = "retention") -> None:
        self.store, self.policies, self.transcripts, self.actor = store, policies, transcripts, actor

    def _transcript_kept(self, attempt_id: int) -> bool:
        return self.transcripts is not None and self.transcripts.exists(aftercall_job_id(attempt_id))

    def _recorded(self, cleared: set[int]) -> Callable[[int, str], bool]:
        """Whether anything of a call's recording or transcript is left (nothing once this run cleared it)."""
        def recorded(attempt_id: int, recording: str) -> bool:
            return attempt_id not in cleared and (
                any(_files(Path(recording), kind) for kind in FILE_KINDS) or self._transcript_kept(attempt_id))
        return recorded

    def run(self, now: datetime, *, dry_run: bool = False) -> RetentionReport:
        report = RetentionReport()
        with self.store.reading() as session:
            shortest = min(self.policies.shortest_days(kind) for kind in FILE_KINDS)
            calls, holds = _calls(session, now - timedelta(days=shortest)), preserving_holds(session, now)
        for call in calls:
            due = _due(call, self.policies, now, report, holds, self._transcript_kept)
            if not due:
                continue
            if dry_run:
                report.destroyed += due
                if not any(_files(call.recording, kind) for kind in FILE_KINDS
                           if kind not in {item.kind for item in due}):
                    report.cleared.add(call.attempt_id)
                continue
            try:
                if self._destroy(call, due):
                    report.cleared.add(call.attempt_id)
            except Exception as error:  # one call's failure (a file that cannot be written) stops no other
                report.failed[call.attempt_id] = f"{error.__class__.__name__}: {error}"
                continue
            report.destroyed += due
        recorded = self._recorded(report.cleared)
        with self.store.reading() as session:
            attempts = due_attempts(session, self.policies, now, holds, recorded)
        self._destroy_all(RecordKind.ATTEMPTS, attempts, now, report, dry_run=dry_run)
        with self.store.reading() as session:  # a dry run's attempts are still there: not counted twice
            gone = {attempt_id for due in attempts.due for attempt_id in due.ids}
            cases = due_cases(session, self.policies, now, holds, recorded, gone)
        self._destroy_all(RecordKind.CLOSED_CASES, cases, now, report, dry_run=dry_run)
        if not dry_run and (report.destroyed or report.failed or report.rows):
            with self.store.session() as session:
                record(session, actor=self.actor, action="retention.run", entity="retention",
                       details={"policies": self.policies.version, "at": now.isoformat(),
                                "destroyed": len(report.destroyed), "held": len(report.held),
                                "attempts": report.count(RecordKind.ATTEMPTS),
                                "closed_cases": report.count(RecordKind.CLOSED_CASES),
                                "held_cases": len(report.held_cases), "failed": sorted(report.failed)})
        return report

    def _destroy_all(self, kind: RecordKind, expiry: Expiry, now: datetime, report: RetentionReport, *,
                     dry_run: bool) -> None:
        (report.held if kind is RecordKind.ATTEMPTS else report.held_cases).update(expiry.held)
        report.waiting[kind] = len(expiry.waiting)
        for due in expiry.due:
            self._destroy_rows(kind, due, now, report, dry_run=dry_run)

    def _destroy_rows(self, kind: RecordKind, due: Due, now: datetime, report: RetentionReport, *,
                      dry_run: bool) -> None:
        """Delete a jurisdiction's due rows batch by batch, each batch in one transaction with its destruction
        log row and the audit entry naming it. A dry run reports each batch's tally and writes nothing."""
        size = ROW_BATCH[kind]
        for start in range(0, len(due.ids), size):
            ids = due.ids[start:start + size]
            tally = due.tally(start, start + size)
            if not dry_run:
                with self.store.session() as session:
                    if kind is RecordKind.ATTEMPTS:
                        destroy(session, ids)
                    else:
                        erased = erase_cases(session, ids)
                        tally = {name: n for name, n in (("accounts", erased.accounts), ("attempts", erased.attempts),
                                                         ("debtors", erased.debtors)) if n}
                    self._log(session, kind, due.policy, len(ids), tally, now)
            report.rows.append(RowsDestroyed(kind, due.policy.jurisdiction, len(ids), tally))

    def _log(self, session: Session, kind: RecordKind, policy: Policy, count: int, tally: dict[str, int],
             now: datetime) -> None:
        entry = DestructionLog(run_at=now, kind=kind.value, jurisdiction=policy.jurisdiction, count=count,
                               tally=tally, policies=self.policies.version, keep_days=policy.keep_days,
                               source=policy.source, actor=self.actor[:64])
        session.add(entry)
        session.flush()
        details: dict[str, Any] = {"kind": kind.value, "jurisdiction": policy.jurisdiction, "count": count,
                                   "tally": tally, "policies": self.policies.version, "keep_days": policy.keep_days,
                                   "from": policy.anchor.value, "source": policy.source, "at": now.isoformat()}
        record(session, actor=self.actor, action="retention.destroyed", entity="destruction_log",
               entity_id=entry.id, details=details)

    def _destroy(self, call: Call, due: list[Destroyed]) -> bool:
        """Audit, shred, and clear the recording path once nothing is left, in one transaction: a failure
        part-way rolls the log back and the next run tries again (what was shredded stays shredded). True when
        nothing of the call's recording or transcript is left."""
        with self.store.session() as session:
            details = {"policies": self.policies.version, "records": [
                {"kind": item.kind.value, "jurisdiction": item.jurisdiction, "due": item.due.isoformat(),
                 "files": list(item.files), "keys": [key_id_of(Path(f)) for f in item.files if is_sealed(Path(f))],
                 "source": self.policies.policy(item.jurisdiction, item.kind).source}  # type: ignore[union-attr]
                for item in due]}
            for item in due:
                for name in item.files:
                    path = Path(name)
                    if is_sealed(path):
                        shred(path)
                    else:  # plain (sealed never, or a copy for people): removing is all there is to do
                        path.unlink()
                if item.kind is RecordKind.TRANSCRIPTS and self.transcripts is not None:
                    self.transcripts.delete(aftercall_job_id(call.attempt_id))
            gone = not any(_files(call.recording, kind) for kind in FILE_KINDS)
            recording_destroyed(session, call.attempt_id, actor=self.actor, details=details, cleared=gone)
            return gone


async def run_daily(destruction: Destruction, stop: asyncio.Event, *, every_s: float = DAY_S,
                    clock: Callable[[], datetime] = utcnow) -> None:
    """The job now and then every `every_s` until `stop` is set (`dunline serve`'s). Its clock is the real one,
    never a simulated floor's shifted clock: records are destroyed by the calendar."""
    while not stop.is_set():
        try:
            report = await asyncio.to_thread(destruction.run, clock())
            if report.destroyed or report.failed or report.rows:
                log.info("retention: %d recording/transcript(s), %d attempt row(s) and %d closed case(s) destroyed; "
                         "%d call(s) and %d case(s) kept by a hold, %d failed", len(report.destroyed),
                         report.count(RecordKind.ATTEMPTS), report.count(RecordKind.CLOSED_CASES), len(report.held),
                         len(report.held_cases), len(report.failed))
        except Exception:  # the store away: the next day's run catches up
            log.exception("the retention job failed")
        try:
            await asyncio.wait_for(stop.wait(), every_s)
        except TimeoutError:
            pass
