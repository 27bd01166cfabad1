"""`dunline report NAME`: one report of the catalogue (campaigns.reports) as a table, CSV, JSON or XLSX; and
`dunline report send-daily`: the managers' daily summary by e-mail; `dunline report snapshot`: the day's DPD
snapshot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path

import typer
from rich.table import Table

from dunline.cli.context import CliContext, console, fail

FORMATS = ("table", "csv", "json", "xlsx")
# The catalogue's names and titles (campaigns.reports.REPORTS, kept equal by a test): written out so that
# `dunline --help` builds the command tree without importing the database stack.
REPORT_TITLES = {
    "contact": "接通漏斗 Contact funnel (dials, contacts, RPC, PTP, abandons)",
    "channel-mix": "渠道构成 Channel mix (call, SMS, e-mail)",
    "promises": "承诺还款 Promises made and kept",
    "collections": "回款 Payments collected",
    "talk-time": "通话时长 Agents' talk time",
    "agent-time": "坐席工时 Agent time: occupancy, talk, wrap, pause, collected per hour",
    "screening": "质检发现 Screening findings per 100 calls",
    "roll-rates": "迁徙率 Roll rates between DPD buckets",
    "cure-rate": "治愈率 Cure rate (back to current)",
    "recovery-rate": "回收率 Recovery rate of placements",
    "liquidation-rate": "清收率 Liquidation rate",
    "strategy": "策略对比 Champion against challenger: collected per case of each arm",
}
report_app = typer.Typer(help="报表 Reports: collection KPIs by period and grouping.", no_args_is_help=True)


def _report_command(name: str) -> Callable[..., None]:
    def command(ctx: typer.Context,
                first: str = typer.Option(..., "--from", help="first local day, YYYY-MM-DD"),
                last: str = typer.Option(..., "--to", help="last local day (included), YYYY-MM-DD"),
                period: str = typer.Option("all", help="day, week, month or all"),
                by: str | None = typer.Option(None, help="campaign, agent, team, creditor, product, region, dpd or channel"),
                utc_offset: int = typer.Option(480, help="minutes east of UTC of the local day (480: Beijing)"),
                fmt: str = typer.Option("table", "--format", help="table, csv, json or xlsx"),
                output: Path | None = typer.Option(None, help="write here (required for xlsx)")) -> None:
        show(ctx, name, first, last, period, by, utc_offset, fmt, output)

    command.__doc__ = REPORT_TITLES[name]
    return command


for _name in REPORT_TITLES:
    report_app.command(_name)(_report_command(_name))


def show(ctx: typer.Context, name: str, first: str, last: str, period: str, by: str | None, utc_offset: int,
         fmt: str, output: Path | None) -> None:
    from campaigns.reports import Window, run_report

    cli: CliContext = ctx.obj
    cli.act("report")
    if fmt not in FORMATS:
        raise fail(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "xlsx" and output is None:
        raise fail("--format xlsx needs --output FILE.xlsx")
    try:
        window = Window(_day("--from", first), _day("--to", last), period, by, utc_offset)
        with cli.migrated_store().engine.connect() as connection:
            table = run_report(connection, name, window)
    except ValueError as error:
        raise fail(str(error)) from None
    if fmt == "xlsx":
        assert output is not None
        output.write_bytes(table.to_xlsx())
    elif fmt in ("csv", "json"):
        text = table.to_csv() if fmt == "csv" else table.to_json() + "\n"
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            typer.echo(text, nl=False)
    else:
        shown = Table(*table.columns, title=f"{name} {first}..{last}")
        for row in table.rows:
            shown.add_row(*("" if value is None else f"{value:.2%}" if isinstance(value, float) else str(value)
                            for value in row))
        console.print(shown)


@report_app.command("send-daily")
def send_daily(ctx: typer.Context,
               to: list[str] = typer.Option(..., "--to", help="a manager's e-mail address (repeat for more)"),
               day: str | None = typer.Option(None, help="the local day to summarise (default: yesterday)"),
               utc_offset: int = typer.Option(480, help="minutes east of UTC of the local day (480: Beijing)")
               ) -> None:
    """Mail yesterday's summary (dials, contacts, promises, collections) to managers through the SMTP server
    of the settings (smtp_host); run it from a morning timer."""
    import asyncio

    from campaigns.reports.daily import build_summary, send_summary, summary_day
    from dunline.messages import smtp_config
    from messaging.email import EmailChannel

    cli: CliContext = ctx.obj
    cli.act("report")
    try:
        wanted = _day("--day", day) if day else summary_day(datetime.now(timezone.utc), utc_offset)
        mailer = EmailChannel(smtp_config(cli.settings))
        with cli.migrated_store().engine.connect() as connection:
            summary = build_summary(connection, wanted, utc_offset)
        asyncio.run(send_summary(summary, to, mailer))
    except (ValueError, LookupError, OSError) as error:
        raise fail(str(error)) from None
    console.print(f"daily summary for {wanted} sent to {len(to)}")


@report_app.command("snapshot")
def snapshot(ctx: typer.Context,
             at: str | None = typer.Option(None, "--at", help="the local day to snapshot (default: today)"),
             utc_offset: int = typer.Option(480, help="minutes east of UTC of the local day (480: Beijing)")) -> None:
    """Write the day's DPD snapshot (each open account's DPD bucket and balance), which the roll, cure, recovery
    and liquidation reports read; `dunline serve` takes it daily. A second run the same day adds only accounts
    placed since."""
    from campaigns.reports.grouping import local_day
    from campaigns.reports.snapshot import take_snapshot

    cli: CliContext = ctx.obj
    cli.act("report")
    try:
        wanted = _day("--at", at) if at else local_day(datetime.now(timezone.utc), utc_offset)
        with cli.migrated_store().engine.begin() as connection:
            written = take_snapshot(connection, wanted)
    except ValueError as error:
        raise fail(str(error)) from None
    console.print(f"DPD snapshot of {wanted}: {written} account(s) written")


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a date YYYY-MM-DD") from None
