"""The names of the reports and what runs each."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection

from campaigns.reports import agents, contact, money, screening
from campaigns.reports.grouping import Window
from campaigns.reports.table import ReportTable


@dataclass(frozen=True)
class Report:
    name: str
    title: str  # Chinese and English, for the CLI's help and the console
    run: Callable[[Connection, Window], ReportTable]


REPORTS: Mapping[str, Report] = {report.name: report for report in (
    Report("contact", "接通漏斗 Contact funnel (dials, contacts, RPC, PTP, abandons)", contact.contact),
    Report("channel-mix", "渠道构成 Channel mix (call, SMS, e-mail)", contact.channel_mix),
    Report("promises", "承诺还款 Promises made and kept", money.promises),
    Report("collections", "回款 Payments collected", money.collections),
    Report("talk-time", "通话时长 Agents' talk time", agents.talk_time),
    Report("screening", "质检发现 Screening findings per 100 calls", screening.findings_per_call),
)}


def run_report(connection: Connection, name: str, window: Window) -> ReportTable:
    """The report `name` over `window`; an unknown name or a grouping it lacks is a ValueError naming it."""
    if name not in REPORTS:
        raise ValueError(f"no report {name!r}; reports: {', '.join(REPORTS)}")
    return REPORTS[name].run(connection, window)
