"""Wiring for `dunline serve`'s daily report jobs (campaigns.reports.schedule): the DPD snapshot always, the
managers' summary where report_daily_at, report_daily_to and an SMTP server are configured."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from campaigns.reports.schedule import TICK_S, DailyJob, run_daily_jobs, snapshot_job, summary_job
from cases import Store
from cases.models import utcnow
from dunline.messages import smtp_config
from dunline.settings import Settings
from messaging.email import EmailChannel

log = logging.getLogger(__name__)


def daily_jobs(settings: Settings, store: Store) -> list[DailyJob]:
    zone = ZoneInfo(settings.default_timezone)
    jobs = [snapshot_job(store)]
    if settings.report_daily_at is None or not settings.report_daily_to:
        log.info("report_daily_at or report_daily_to is not set: the daily summary is not mailed")
    elif not settings.smtp_host:
        log.info("no smtp_host is configured: the daily summary is not mailed")
    else:
        jobs.append(summary_job(store, EmailChannel(smtp_config(settings)), settings.report_daily_to,
                                settings.report_daily_at, zone))
    return jobs


async def serve_daily_reports(settings: Settings, store: Store, stop: asyncio.Event,
                              clock: Callable[[], datetime] = utcnow, *, every_s: float = TICK_S) -> None:
    """Run the daily report jobs until `stop` is set; by the calendar (the real clock by default, never a
    simulated floor's)."""
    await run_daily_jobs(store, daily_jobs(settings, store), stop, clock=clock,
                         zone=ZoneInfo(settings.default_timezone), every_s=every_s)
