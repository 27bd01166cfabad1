"""The daily summary mailed to managers: yesterday's contact funnel, promises and collections, in Chinese and
English, built from the same reports as the console (`campaigns.reports`).

Schedule: the summary covers the last whole local day before `now` (`summary_day`). `dunline serve` mails it
once a day from the local time `report_daily_at` (`campaigns.reports.schedule`, which keeps the day it was sent);
`dunline report send-daily` sends it by hand and keeps no state (the day is named in the subject).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from aiosmtplib import SMTPException
from sqlalchemy import Connection

from campaigns.reports.catalogue import run_report
from campaigns.reports.grouping import Window, local_day
from messaging.email import Email


@dataclass(frozen=True)
class DailySummary:
    day: date
    subject: str
    text: str  # plain text; the e-mail channel adds the HTML alternative from it


def summary_day(now: datetime, utc_offset_minutes: int) -> date:
    """The last whole local day before the instant `now`."""
    return local_day(now, utc_offset_minutes) - timedelta(days=1)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def build_summary(connection: Connection, day: date, utc_offset_minutes: int) -> DailySummary:
    window = Window(day, day, utc_offset_minutes=utc_offset_minutes)
    contact = run_report(connection, "contact", window).records()[0]
    promises = run_report(connection, "promises", window).records()[0]
    collections = run_report(connection, "collections", window).records()[0]
    lines = [
        f"催收日报 Daily collection summary — {day.isoformat()}",
        "",
        f"拨打 Dials: {contact['dials']}   接通 Contacts: {contact['contacts']} ({_percent(contact['contact_rate'])})",
        f"本人接通 Right-party contacts: {contact['rpc']} ({_percent(contact['rpc_rate'])})   "
        f"放弃 Abandoned: {contact['abandoned']} ({_percent(contact['abandon_rate'])})",
        f"承诺还款 Promises: {promises['promised']}, 金额 amount {promises['amount_promised']}   "
        f"承诺率 PTP rate: {_percent(contact['ptp_rate'])}",
        f"回款 Collected: {collections['collected']} ({collections['payments']} 笔 payments)",
    ]
    return DailySummary(day, f"催收日报 Daily summary {day.isoformat()}", "\n".join(lines))


class Mailer(Protocol):
    async def send(self, email: Email) -> str: ...


async def send_summary(summary: DailySummary, recipients: Sequence[str], mailer: Mailer) -> list[str]:
    """Mail the summary to each recipient (one message each, so one refusal names its address); Message-IDs."""
    sent = []
    for address in recipients:
        try:
            sent.append(await mailer.send(Email(address, summary.subject, summary.text)))
        except (OSError, SMTPException) as error:
            raise OSError(f"the daily summary to {address} was refused: {error}") from error
    return sent
