"""`dunline reminders run`: send the SMS and e-mail reminders the strategy (campaigns/reminders.yaml) plans for
today, over the channels configured (smpp_host, smtp_host)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from dunline.cli.campaign import parse_at
from dunline.cli.context import CliContext, console, fail

if TYPE_CHECKING:
    from campaigns.reminders import RunReport

reminders_app = typer.Typer(help="Payment reminders by strategy, each sent once through the gate.",
                            no_args_is_help=True)


@reminders_app.command("run")
def run(ctx: typer.Context,
        at: datetime | None = typer.Option(None, parser=parse_at, metavar="ISO-8601",
                                           help="plan and gate as of this instant (tests, demos); default: now"),
        dry_run: bool = typer.Option(False, "--dry-run", help="list what is due, send nothing")) -> None:
    """Plan today's reminders, skip those already sent or refused for good, send the rest by SMS and e-mail."""
    from campaigns.reminders import ReminderService
    from cases.models import ReminderStatus
    from dunline.clock import shifted_clock
    from dunline.messages import configured_channels, message_service

    cli: CliContext = ctx.obj
    actor = cli.act("reminders run")
    store = cli.migrated_store()
    clock = shifted_clock(at)

    async def send() -> RunReport:
        if dry_run:
            return await ReminderService(store=store, messages=None).run(clock(), dry_run=True)
        async with message_service(cli.settings, store, configured_channels(cli.settings), clock) as service:
            return await ReminderService(store=store, messages=service).run(clock(), actor=actor)

    try:
        report = asyncio.run(send())
    except (OSError, ValueError, LookupError) as error:
        raise fail(f"reminders not sent: {error}") from None
    table = Table("account", "rule", "due date", "stage", "channel")
    for reminder in report.pending:
        table.add_row(str(reminder.account_id), reminder.rule, reminder.due_date.isoformat(), reminder.stage,
                      reminder.channel)
    if report.pending:
        console.print(table)
    counts = ", ".join(f"{report.count(s)} {s.value}" for s in ReminderStatus)
    console.print(f"{report.day}: {report.planned} due, {len(report.pending)} not yet sent"
                  + ("" if dry_run else f"; {counts}"))
