"""The destruction job (`dunline retention run`, and once a day in `dunline serve`): a call's recording and
transcript past their retention (recordings/retention.yaml, by the jurisdiction of the rule pack the call was
placed under) are destroyed, unless a hold that preserves evidence covers the call.

Destruction is crypto-shredding (crypto.sealed.shred): the sealed file's wrapped data key is overwritten and
flushed, then the file removed, so no copy of the payload left on a disk block opens with any key; the
transcript's Redis copy is deleted with its file. Each call's destruction is audited (`retention.destroyed`,
in the hash-chained log, with the policy and the law it applied) in the transaction that clears the attempt's
recording path once nothing of it is left; a run's totals are audited too (`retention.run`). A dry run
destroys and records nothing and reports the same.

Preserving holds: `legal` (proceedings) and `dispute` (the call may be evidence either way), active at the
run's time, on the call's debtor, account, phone or number.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from campaigns.aftercall import aftercall_job_id
from campaigns.attempts import recording_destroyed
from cases import Store
from cases.audit import record
from cases.models import Account, Attempt, AttemptOutcome, Hold, HoldKind, utcnow
from crypto import is_sealed, key_id_of, shred
from recordings.retention import Anchor, RecordKind, RetentionPolicies
from recordings.storage import plain_path, sealed_path
from recordings.transcripts import TranscriptStore, json_path

log = logging.getLogger(__name__)

PRESERVING_HOLDS = (HoldKind.LEGAL, HoldKind.DISPUTE)
DAY_S = 24 * 3600.0
FILE_KINDS = (RecordKind.RECORDINGS, RecordKind.TRANSCRIPTS)


@dataclass(frozen=True)
class Call:
    """A closed attempt with a recording path, as the job sees it."""

    attempt_id: int
    recording: Path
    started_at: datetime
    jurisdiction: str | None
    last_activity: datetime
    scope: tuple[int, int, int | None, str]  # debtor, account, phone, number


@dataclass(frozen=True)
class Destroyed:
    attempt_id: int
    kind: RecordKind
    jurisdiction: str
    due: datetime
    files: tuple[str, ...]


@dataclass
class RetentionReport:
    destroyed: list[Destroyed] = field(default_factory=list)
    held: set[int] = field(default_factory=set)  # attempts past their time kept by a hold
    no_policy: set[int] = field(default_factory=set)  # attempts of no known jurisdiction: kept
    failed: dict[int, str] = field(default_factory=dict)


def _calls(session: Session, started_before: datetime) -> list[Call]:
    """The calls that may be due: a period runs from the call or later, so none started after `started_before`
    (now less the shortest period)."""
    last = {row[0]: row[1] for row in session.execute(
        select(Attempt.account_id, func.max(Attempt.started_at)).group_by(Attempt.account_id))}
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


def _held(session: Session, now: datetime) -> Callable[[Call], bool]:
    holds = session.execute(select(Hold.debtor_id, Hold.account_id, Hold.phone_id, Hold.e164).where(
        Hold.kind.in_(PRESERVING_HOLDS), Hold.released_at.is_(None), Hold.starts_at <= now,
        or_(Hold.ends_at.is_(None), Hold.ends_at > now))).all()
    scopes = [set(values) - {None} for values in zip(*holds, strict=True)] if holds else [set()] * 4
    return lambda call: any(value in scope for value, scope in zip(call.scope, scopes, strict=True))


def _files(call: Call, kind: RecordKind) -> list[Path]:
    """What is left on disk of a call's record of this kind."""
    base = plain_path(call.recording) if kind is RecordKind.RECORDINGS else json_path(call.recording)
    return [path for path in (base, sealed_path(base)) if path.exists()]


def _anchor(call: Call, anchor: Anchor) -> datetime:
    return call.last_activity if anchor is Anchor.LAST_ACTIVITY else call.started_at


def _due(call: Call, policies: RetentionPolicies, now: datetime, report: RetentionReport,
         held: Callable[[Call], bool], transcript_kept: Callable[[int], bool]) -> list[Destroyed]:
    due = []
    for kind in FILE_KINDS:
        policy = policies.policy(call.jurisdiction, kind)
        if policy is None:
            report.no_policy.add(call.attempt_id)
            continue
        when = policy.due(_anchor(call, policy.anchor))
        if when > now:
            continue
        files = _files(call, kind)
        if not files and not (kind is RecordKind.TRANSCRIPTS and transcript_kept(call.attempt_id)):
            continue
        if held(call):
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

    def run(self, now: datetime, *, dry_run: bool = False) -> RetentionReport:
        report = RetentionReport()
        with self.store.reading() as session:
            shortest = min(policy.keep_days for policy in self.policies.policies.values())
            calls, held = _calls(session, now - timedelta(days=shortest)), _held(session, now)
        for call in calls:
            due = _due(call, self.policies, now, report, held, self._transcript_kept)
            if not due:
                continue
            if dry_run:
                report.destroyed += due
                continue
            try:
                self._destroy(call, due)
            except Exception as error:  # one call's failure (a file that cannot be written) stops no other
                report.failed[call.attempt_id] = f"{error.__class__.__name__}: {error}"
                continue
            report.destroyed += due
        if not dry_run and (report.destroyed or report.failed):
            with self.store.session() as session:
                record(session, actor=self.actor, action="retention.run", entity="retention",
                       details={"policies": self.policies.version, "at": now.isoformat(),
                                "destroyed": len(report.destroyed), "held": len(report.held),
                                "failed": sorted(report.failed)})
        return report

    def _destroy(self, call: Call, due: list[Destroyed]) -> None:
        """Audit, shred, and clear the recording path once nothing is left, in one transaction: a failure
        part-way rolls the log back and the next run tries again (what was shredded stays shredded)."""
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
            gone = not any(_files(call, kind) for kind in FILE_KINDS)
            recording_destroyed(session, call.attempt_id, actor=self.actor, details=details, cleared=gone)


async def run_daily(destruction: Destruction, stop: asyncio.Event, *, every_s: float = DAY_S,
                    clock: Callable[[], datetime] = utcnow) -> None:
    """The job now and then every `every_s` until `stop` is set (`dunline serve`'s). Its clock is the real one,
    never a simulated floor's shifted clock: records are destroyed by the calendar."""
    while not stop.is_set():
        try:
            report = await asyncio.to_thread(destruction.run, clock())
            if report.destroyed or report.failed:
                log.info("retention: %d record(s) destroyed, %d call(s) kept by a hold, %d failed",
                         len(report.destroyed), len(report.held), len(report.failed))
        except Exception:  # the store away: the next day's run catches up
            log.exception("the retention job failed")
        try:
            await asyncio.wait_for(stop.wait(), every_s)
        except TimeoutError:
            pass
