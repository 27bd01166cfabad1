"""The names of the reports and what runs each."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection

from campaigns.reports import agent_time, agents, arms, contact, money, portfolio, screening
from campaigns.reports.grouping import Window
from campaigns.reports.table import ReportTable


@dataclass(frozen=True)
class Report:
    name: str
    title: str  # Chinese and English, for the CLI's help and the console
    run: Callable[[Connection, Window], ReportTable]
    periodic: bool = True  # False: it compares the window's first and last days, by no period


REPORTS: Mapping[str, Report] = {report.name: report for report in (
    Report("contact", "接通漏斗 Contact funnel (dials, contacts, RPC, PTP, abandons)", contact.contact),
    Report("channel-mix", "渠道构成 Channel mix (call, SMS, e-mail)", contact.channel_mix),
    Report("promises", "承诺还款 Promises made and kept", money.promises),
    Report("collections", "回款 Payments collected", money.collections),
    Report("talk-time", "通话时长 Agents' talk time", agents.talk_time),
    Report("agent-time", "坐席工时 Agent time: occupancy, talk, wrap, pause, collected per hour", agent_time.agent_time),
    Report("screening", "质检发现 Screening findings per 100 calls", screening.findings_per_call),
    Report("roll-rates", "迁徙率 Roll rates between DPD buckets", portfolio.roll_rates, periodic=False),
    Report("cure-rate", "治愈率 Cure rate (back to current)", portfolio.cure_rate, periodic=False),
    Report("recovery-rate", "回收率 Recovery rate of placements", portfolio.recovery_rate, periodic=False),
    Report("liquidation-rate", "清收率 Liquidation rate", portfolio.liquidation_rate, periodic=False),
    Report("strategy", "策略对比 Champion against challenger: collected per case of each arm", arms.strategy,
           periodic=False),
)}


def run_report(connection: Connection, name: str, window: Window) -> ReportTable:
    """The report `name` over `window`; an unknown name or a grouping it lacks is a ValueError naming it."""
    if name not in REPORTS:
        raise ValueError(f"no report {name!r}; reports: {', '.join(REPORTS)}")
    return REPORTS[name].run(connection, window)
