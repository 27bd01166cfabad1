"""The daily report jobs of `dunline serve`: the DPD snapshot (from local midnight) and the managers' summary
(from a configured local time), each once per local day across restarts and serve nodes.

A job claims its (job, day) row in `daily_job_runs` before it runs, so a restarted or second node finds it
claimed and leaves it; a job that fails gives its claim back and the next tick tries again. A node that dies
mid-job leaves the day claimed: at most once, never twice (the snapshot, being idempotent, can be retaken by
hand with `dunline report snapshot`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from campaigns.reports.daily import DailySummary, Mailer, build_summary, send_summary
from campaigns.reports.snapshot import take_snapshot
from cases import Store
from cases.models import DailyJobRun

log = logging.getLogger(__name__)
TICK_S = 60.0  # how often the jobs are looked at: a job starts at most this late


@dataclass(frozen=True)
class DailyJob:
    name: str
    at: time  # the local time of day from which it is due
    run: Callable[[date], Awaitable[object]]  # given the local day it runs on


def _claim(store: Store, job: str, day: date, now: datetime) -> bool:
    try:
        with store.session() as session:
            session.add(DailyJobRun(job=job, day=day, done_at=now))
    except IntegrityError:
        return False
    return True


def _release(store: Store, job: str, day: date) -> None:
    with store.session() as session:
        session.execute(delete(DailyJobRun).where((DailyJobRun.job == job) & (DailyJobRun.day == day)))


async def run_due(store: Store, jobs: Sequence[DailyJob], now: datetime, zone: tzinfo) -> list[str]:
    """Run the jobs due at `now` and not yet claimed for their local day; the names of those that ran."""
    local = now.astimezone(zone)
    ran = []
    for job in jobs:
        if local.time() < job.at or not await asyncio.to_thread(_claim, store, job.name, local.date(), now):
            continue
        try:
            await job.run(local.date())
            ran.append(job.name)
        except Exception:  # the store or the mail server away: given back, tried again next tick
            log.exception("daily job %s for %s failed; it is tried again", job.name, local.date())
            await asyncio.to_thread(_release, store, job.name, local.date())
    return ran


async def run_daily_jobs(store: Store, jobs: Sequence[DailyJob], stop: asyncio.Event, *,
                         clock: Callable[[], datetime], zone: tzinfo, every_s: float = TICK_S) -> None:
    """Look at the jobs every `every_s` until `stop` is set."""
    while not stop.is_set():
        try:
            await run_due(store, jobs, clock(), zone)
        except Exception:  # a claim the store refused: the next tick
            log.exception("the daily report jobs could not be looked at")
        try:
            await asyncio.wait_for(stop.wait(), every_s)
        except TimeoutError:
            pass


def snapshot_job(store: Store) -> DailyJob:
    """Today's DPD snapshot, from local midnight."""
    def write(day: date) -> int:
        with store.engine.begin() as connection:
            return take_snapshot(connection, day)

    async def run(day: date) -> None:
        written = await asyncio.to_thread(write, day)
        log.info("DPD snapshot of %s: %d account(s)", day, written)

    return DailyJob("dpd-snapshot", time(0, 0), run)


def summary_job(store: Store, mailer: Mailer, recipients: Sequence[str], at: time, zone: tzinfo) -> DailyJob:
    """Yesterday's summary mailed to `recipients` from the local time `at`."""
    async def run(day: date) -> None:
        yesterday = day - timedelta(days=1)
        offset = zone.utcoffset(datetime.combine(yesterday, time(12)))
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0

        def build() -> DailySummary:
            with store.engine.connect() as connection:
                return build_summary(connection, yesterday, minutes)

        summary = await asyncio.to_thread(build)
        await send_summary(summary, recipients, mailer)
        log.info("daily summary of %s mailed to %d manager(s)", yesterday, len(recipients))

    return DailyJob("daily-summary", at, run)
