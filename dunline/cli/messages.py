"""`dunline message send|list|email-ok`: an SMS or e-mail to a case through the compliance gate, the messages sent,
and a bounced e-mail address cleared."""

from __future__ import annotations

import asyncio
from datetime import datetime

import typer
from rich.table import Table

from dunline.cli.campaign import parse_at
from dunline.cli.context import CliContext, console, enum_choice, fail

message_app = typer.Typer(help="SMS and e-mail to debtors, through the same gate as calls.", no_args_is_help=True)


@message_app.command("send")
def send(ctx: typer.Context, account: str = typer.Argument(..., help="account id or reference"),
         channel: str = typer.Option(..., callback=enum_choice("cases.models", "Channel"), help="sms or email"),
         text: str = typer.Option(..., help="the message (screened before it is sent)"),
         subject: str | None = typer.Option(None, help="e-mail subject (default: a payment reminder)"),
         wait: float = typer.Option(10.0, help="seconds to wait for the carrier's or server's answer"),
         at: datetime | None = typer.Option(None, parser=parse_at, metavar="ISO-8601",
                                           help="a simulated wall clock for the gate from this instant (tests, "
                                                "demos); default: the real one")) -> None:
    """Send one message now; a refusal prints the gate's receipt."""
    from cases.models import Channel
    from compliance import explain
    from dunline.cli.compliance import _account_id
    from dunline.clock import shifted_clock
    from dunline.messages import message_service

    cli: CliContext = ctx.obj
    actor = cli.act("message send")
    if channel == "call":
        raise fail("a call is placed by a campaign, not sent: use --channel sms or email")
    store = cli.migrated_store()
    with store.session() as session:
        account_id = _account_id(session, account)

    async def run() -> tuple[object, str | None]:
        clock = shifted_clock(at)
        async with message_service(cli.settings, store, {Channel(channel)}, clock) as service:
            sent = await service.send(account_id, Channel(channel), text=text, subject=subject, actor=actor,
                                      now=clock())
            state = await service.settled(sent.attempt_id, wait) if sent.attempt_id is not None else None
            return sent, state

    try:
        sent, state = asyncio.run(run())
    except (OSError, ValueError, LookupError) as error:
        raise fail(f"{channel} channel unavailable: {error}") from None
    if sent.attempt_id is None:  # type: ignore[attr-defined]
        for line in explain(sent.decision.receipt):  # type: ignore[attr-defined]
            console.print(line, markup=False, highlight=False)
        raise typer.Exit(1)
    console.print(f"message {sent.attempt_id} {state}")  # type: ignore[attr-defined]


@message_app.command("email-ok")
def email_ok(ctx: typer.Context, account: str = typer.Argument(..., help="account id or reference"),
             note: str | None = typer.Option(None, help="why the address works again (audited)")) -> None:
    """Clear the bounce mark on the account's debtor's e-mail address, so the gate sends to it again."""
    from campaigns.attempts import clear_email_bounce
    from dunline.cli.compliance import _account_id

    cli: CliContext = ctx.obj
    actor = cli.act("message email-ok")
    with cli.migrated_store().session() as session:
        account_id = _account_id(session, account)
        if not clear_email_bounce(session, account_id, actor=actor, note=note):
            raise fail(f"account {account}: its debtor's e-mail address is not marked bounced")
    console.print(f"account {account}: e-mail address cleared")


@message_app.command("list")
def list_messages(ctx: typer.Context, account: str | None = typer.Option(None, help="account id or reference"),
                  limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """The latest messages (numbers and addresses masked) with their delivery state."""
    from sqlalchemy import select

    from cases.masking import mask_email, mask_phone
    from cases.models import Attempt, Channel
    from dunline.cli.compliance import _account_id

    cli: CliContext = ctx.obj
    with cli.migrated_store().session() as session:
        query = select(Attempt).where(Attempt.channel != Channel.CALL).order_by(Attempt.id.desc()).limit(limit)
        if account:
            query = query.where(Attempt.account_id == _account_id(session, account))
        rows = list(session.scalars(query))
        table = Table("id", "account", "channel", "to", "sent", "delivery", "ended")
        for row in rows:
            to = mask_phone(row.number_e164) if row.channel is Channel.SMS else mask_email(row.address)
            table.add_row(str(row.id), str(row.account_id), row.channel.value, to,
                          f"{row.started_at:%Y-%m-%d %H:%M}", row.delivery or "-",
                          f"{row.ended_at:%Y-%m-%d %H:%M}" if row.ended_at else "")
    console.print(table)
