"""`dunline why`, `dunline holds`, `dunline dnc`, `dunline gate`: compliance from the command line."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import typer
from rich.table import Table

from cases.masking import mask_phone
from dunline.cli.context import CliContext, console, enum_choice, fail

holds_app = typer.Typer(help="Cease, DNC, dispute and other holds.", no_args_is_help=True)
dnc_app = typer.Typer(help="Do-not-call lists.", no_args_is_help=True)
gate_app = typer.Typer(help="Ask the pre-dial gate.", no_args_is_help=True)


def why(ctx: typer.Context, attempt_id: int) -> None:
    """Explain why an attempt was allowed to be dialled, from its stored receipt."""
    from cases.models import Attempt
    from compliance import explain

    cli: CliContext = ctx.obj
    with cli.migrated_store().session() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            raise fail(f"no attempt {attempt_id}")
        console.print(f"attempt {attempt.id}: account {attempt.account_id}, {mask_phone(attempt.number_e164)}, "
                      f"started {attempt.started_at:%Y-%m-%d %H:%M:%S %Z}, outcome {attempt.outcome.value}")
        for line in explain(attempt.receipt):
            console.print(line, markup=False, highlight=False)


def _account_id(session, ref: str) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from cases.models import Account

    found = session.execute(select(Account.id).where(Account.account_ref == ref)).scalars().all()
    if not found and ref.isdigit():
        found = [int(ref)] if session.get(Account, int(ref)) else []
    if len(found) != 1:
        raise fail(f"account {ref!r} not found" if not found else f"{ref!r} matches several accounts; use the id")
    return found[0]


@holds_app.command("add")
def holds_add(
    ctx: typer.Context,
    kind_name: str = typer.Option(..., "--kind", metavar="KIND", callback=enum_choice("cases.models", "HoldKind"),
                                  help="what kind of hold (a wrong one is refused with the list)"),
    account: str | None = typer.Option(None, help="account (debt) id or reference: the hold covers this debt"),
    debtor_of: str | None = typer.Option(None, help="account id or reference whose debtor the hold covers"),
    number: str | None = typer.Option(None, help="a phone number (any format; --region applies)"),
    region: str | None = typer.Option(None),
    until: datetime | None = typer.Option(None, help="end (UTC) of a temporary hold"),
    schedule: str | None = typer.Option(None, help='no_call_times: JSON {"weekdays":[0,1,2,3,4],"start":"09:00","end":"18:00"}'),
    note: str | None = typer.Option(None),
) -> None:
    from cases.models import Account, HoldKind
    from cases.phones import InvalidPhoneNumber, to_e164
    from compliance import HoldError, place_hold

    cli: CliContext = ctx.obj
    actor = cli.act("holds")
    kind = HoldKind(kind_name)
    with cli.migrated_store().session() as session:
        account_id = _account_id(session, account) if account else None
        debtor_id = session.get(Account, _account_id(session, debtor_of)).debtor_id if debtor_of else None  # type: ignore[union-attr]
        e164 = None
        if number:
            try:
                e164 = to_e164(number, (region or cli.settings.default_region).upper())
            except InvalidPhoneNumber as error:
                raise fail(str(error)) from None
        try:
            hold = place_hold(session, kind=kind, actor=actor, source="cli", account_id=account_id,
                              debtor_id=debtor_id, e164=e164,
                              ends_at=until.replace(tzinfo=timezone.utc) if until else None,
                              schedule=json.loads(schedule) if schedule else None, note=note)
        except (HoldError, json.JSONDecodeError) as error:
            raise fail(str(error)) from None
        console.print(f"hold {hold.id} ({kind.value}) placed")


@holds_app.command("list")
def holds_list(ctx: typer.Context, all_holds: bool = typer.Option(False, "--all", help="include released")) -> None:
    from sqlalchemy import select

    from cases.models import Hold

    cli: CliContext = ctx.obj
    with cli.migrated_store().session() as session:
        query = select(Hold).order_by(Hold.id.desc()).limit(200)
        if not all_holds:
            query = query.where(Hold.released_at.is_(None))
        holds = list(session.execute(query).scalars())
    table = Table("id", "kind", "scope", "from", "until", "source", "released")
    for hold in holds:
        scope = (f"account {hold.account_id}" if hold.account_id else f"phone {hold.phone_id}" if hold.phone_id
                 else f"number {mask_phone(hold.e164)}" if hold.e164 else f"debtor {hold.debtor_id}")
        table.add_row(str(hold.id), hold.kind.value, scope, f"{hold.starts_at:%Y-%m-%d}",
                      f"{hold.ends_at:%Y-%m-%d %H:%M}" if hold.ends_at else "-", hold.source,
                      f"{hold.released_at:%Y-%m-%d}" if hold.released_at else "")
    console.print(table)


@holds_app.command("release")
def holds_release(ctx: typer.Context, hold_id: int, note: str | None = typer.Option(None)) -> None:
    from compliance import HoldError, release_hold

    cli: CliContext = ctx.obj
    actor = cli.act("holds")
    with cli.migrated_store().session() as session:
        try:
            release_hold(session, hold_id, actor=actor, note=note)
        except HoldError as error:
            raise fail(str(error)) from None
    console.print(f"hold {hold_id} released")


@dnc_app.command("import")
def dnc_import(ctx: typer.Context, file: Path = typer.Argument(..., exists=True, dir_okay=False),
               source: str = typer.Option(..., help="name of the list, e.g. 'national DNC 2026-11'"),
               region: str | None = typer.Option(None)) -> None:
    """Import a list of numbers (one per line, or first CSV column) as DNC holds."""
    from compliance import import_dnc

    cli: CliContext = ctx.obj
    actor = cli.act("dnc import")
    with cli.migrated_store().session() as session, file.open(encoding="utf-8-sig") as lines:
        added, problems = import_dnc(session, lines, region=(region or cli.settings.default_region).upper(),
                                     actor=actor, source=source)
    for problem in problems[:50]:
        console.print(f"[yellow]skipped[/yellow] {problem}")
    console.print(f"{added} number(s) added to DNC from {source}; {len(problems)} line(s) rejected")


@gate_app.command("check")
def gate_check(ctx: typer.Context, account: str, number: str | None = typer.Option(None, help="E.164; default: all"),
               manual: bool = typer.Option(False, help="a manually dialled call (not an autodialer)"),
               recording: bool = typer.Option(True), ring_timeout: int = typer.Option(25)) -> None:
    """Ask the gate whether each of the case's numbers may be called now, with the reasons."""
    from sqlalchemy import select

    from cases.models import Account, Phone
    from compliance import CampaignFacts, ComplianceGate

    cli: CliContext = ctx.obj
    store = cli.migrated_store()
    with store.session() as session:
        account_id = _account_id(session, account)
        debtor_id = session.get(Account, account_id).debtor_id  # type: ignore[union-attr]
        phones = [(p.id, p.e164) for p in session.execute(select(Phone).where(Phone.debtor_id == debtor_id)
                                                           .order_by(Phone.priority)).scalars()
                  if number is None or p.e164 == number]
    campaign = CampaignFacts(automated=not manual, recording=recording, ring_timeout_s=ring_timeout)
    now = datetime.now(timezone.utc)
    for (phone_id, e164), decision in zip(phones, ComplianceGate(store).check_many(
            [(account_id, p) for p, _ in phones], now, campaign)):
        verdict = "[green]ALLOWED[/green]" if decision.allowed else "[red]REFUSED[/red]"
        console.print(f"{mask_phone(e164)}: {verdict} {'; '.join(decision.reasons)}"
                      + (f" (next lawful: {decision.next_allowed_at:%Y-%m-%d %H:%M} UTC)" if decision.next_allowed_at else ""))
