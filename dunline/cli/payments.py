"""`dunline payments` (statement import, unmatched queue, resolution) and `dunline promises settle`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import typer
from rich.table import Table

from dunline.cli.context import CliContext, console, fail

payments_app = typer.Typer(help="Payments received: statements, matching, the unmatched queue.", no_args_is_help=True)
promises_app = typer.Typer(help="Promises to pay.", no_args_is_help=True)
plans_app = typer.Typer(help="Repayment plans.", no_args_is_help=True)


@payments_app.command("import")
def payments_import(ctx: typer.Context, file: Path = typer.Argument(..., exists=True, dir_okay=False),
                    source: str = typer.Option(..., help="bank, alipay or wechat"),
                    mapping: Path | None = typer.Option(None, exists=True, dir_okay=False,
                                                        help="column mapping (TOML); default: the source's example")
                    ) -> None:
    """Import a statement (CSV or XLSX): all of it or, when a row is bad, nothing; a re-import adds nothing."""
    from cases.payments import import_statement
    from cases.statements import StatementError, StatementErrors, StatementMapping, StatementSource, read_statement

    cli: CliContext = ctx.obj
    actor = cli.act("payments")
    if source not in {s.value for s in StatementSource}:
        raise fail(f"--source {source!r}: use one of {', '.join(s.value for s in StatementSource)}")
    try:
        lines = read_statement(file, StatementSource(source), StatementMapping.load(mapping) if mapping else None)
    except StatementErrors as error:
        for e in error.errors:
            console.print(f"row {e.row} [bold]{e.column}[/bold]: {e.reason} ({e.value!r})")
        raise fail(str(error)) from None
    except (StatementError, OSError) as error:
        raise fail(str(error)) from None
    with cli.migrated_store().session() as session:
        summary = import_statement(session, lines, actor)
    console.print(f"{summary.lines} line(s): {summary.matched} matched and applied, {summary.unmatched} unmatched, "
                  f"{summary.already_imported} already imported")


@payments_app.command("unmatched")
def payments_unmatched(ctx: typer.Context) -> None:
    """The unmatched queue with each line's candidate accounts (payer names masked)."""
    from cases.masking import mask_name
    from cases.payments import unmatched_lines

    cli: CliContext = ctx.obj
    cli.act("payments")
    table = Table("item", "source", "txn", "paid at", "amount", "payer", "memo", "rule", "candidates")
    with cli.migrated_store().reading() as session:
        for row in unmatched_lines(session):
            table.add_row(str(row.id), row.source, row.txn_id, f"{row.paid_at:%Y-%m-%d %H:%M}", str(row.amount),
                          mask_name(row.payer_name), row.memo or "", row.rule,
                          ", ".join(str(c) for c in row.candidates))
    console.print(table)


@payments_app.command("resolve")
def payments_resolve(ctx: typer.Context, item: int, account: int) -> None:
    """Assign an unmatched line to an account (by id): the payment is applied and the choice audited."""
    from cases.payments import PaymentError, resolve

    cli: CliContext = ctx.obj
    actor = cli.act("payments")
    try:
        with cli.migrated_store().session() as session:
            payment = resolve(session, item, account, actor)
    except PaymentError as error:
        raise fail(str(error)) from None
    console.print(f"item {item} applied to account {account} as payment {payment.id}")


@promises_app.command("settle")
def promises_settle(ctx: typer.Context,
                    at: datetime = typer.Option(..., "--at", help="settle as of this instant (local time)"),
                    grace_days: int | None = typer.Option(None, min=0, help="days after the promised date a "
                                                           "payment still keeps the promise, for every "
                                                           "jurisdiction (default: each rule pack's "
                                                           "promise_grace_days)")) -> None:
    """Mark pending promises kept, partly kept or broken as of --at; running it again changes nothing."""
    from cases.payments import settle_promises
    from compliance.rulepack import load_packs

    cli: CliContext = ctx.obj
    actor = cli.act("payments")
    grace = grace_days if grace_days is not None else \
        {name: pack.rules.promise_grace_days for name, pack in load_packs().items()}
    with cli.migrated_store().session() as session:
        counts = settle_promises(session, at, grace, actor)
    console.print(", ".join(f"{n} {status.value}" for status, n in counts.items()) or "nothing to settle")


def _proposal(cli: CliContext, account: str, monthly: Decimal, limits: Path | None, today: date):  # type: ignore[no-untyped-def]
    """(account id, the proposed instalments) for the account's balance, or fail naming the limit broken."""
    from sqlalchemy import select

    from campaigns.repayment import limits_for, load_limits, propose
    from cases.models import Account
    from cases.statements import EXAMPLES
    from ivr.terms import Refusal

    with cli.migrated_store().reading() as session:
        found = session.scalars(select(Account).where(Account.account_ref == account)).first()
        if found is None:
            raise fail(f"account {account!r}: no such account")
        account_id, balance, creditor, product = found.id, found.balance, found.creditor, found.product.value
    try:
        terms = limits_for(load_limits(limits or EXAMPLES / "plan-limits.yaml"), creditor, product)
        plan = propose(balance, monthly, terms, today.date() if isinstance(today, datetime) else today)
    except (LookupError, ValueError) as error:
        raise fail(str(error)) from None
    if isinstance(plan, Refusal):
        raise fail(f"{plan.field}: {plan.message}")
    return account_id, plan


_ACCOUNT = typer.Argument(..., help="account reference")
_MONTHLY = typer.Option(..., help="what the debtor says they can pay a month")
_LIMITS = typer.Option(None, exists=True, dir_okay=False,
                       help="plan limits per creditor and product (YAML); default: the shipped example")
_TODAY = typer.Option(..., formats=["%Y-%m-%d"], help="the first day of the plan")


@plans_app.command("propose")
def plans_propose(ctx: typer.Context, account: str = _ACCOUNT, monthly: Decimal = _MONTHLY,
                  limits: Path | None = _LIMITS, today: date = _TODAY) -> None:
    """Propose a plan within the creditor's limits, or say which limit the monthly amount breaks."""
    cli: CliContext = ctx.obj
    cli.act("payments")
    for instalment in _proposal(cli, account, monthly, limits, today)[1]:
        console.print(f"{instalment.seq:>3}  {instalment.due_date}  {instalment.amount}")


@plans_app.command("store")
def plans_store(ctx: typer.Context, account: str = _ACCOUNT, monthly: Decimal = _MONTHLY,
                limits: Path | None = _LIMITS, today: date = _TODAY) -> None:
    """Store the proposed plan on the account (audited under the acting user)."""
    from cases.models import Source
    from cases.plans import store_plan

    cli: CliContext = ctx.obj
    actor = cli.act("payments")
    account_id, schedule = _proposal(cli, account, monthly, limits, today)
    with cli.migrated_store().session() as session:
        plan = store_plan(session, account_id, schedule, source=Source.AGENT, actor=actor)
        console.print(f"plan {plan.id} stored: {len(schedule)} instalment(s), {plan.total_amount} in all")


@plans_app.command("show")
def plans_show(ctx: typer.Context, plan: int = typer.Argument(..., min=1, help="plan id")) -> None:
    """A plan's instalments: due date, amount, paid, state."""
    from cases.models import RepaymentPlan
    from cases.plans import schedule_of

    cli: CliContext = ctx.obj
    cli.act("payments")
    with cli.migrated_store().reading() as session:
        found = session.get(RepaymentPlan, plan)
        if found is None:
            raise fail(f"plan {plan}: no such plan")
        rows = schedule_of(found)
    for row in rows:
        console.print(f"{row['seq']:>3}  {row['due_date']}  {row['amount']:>10}  {row['paid_amount']:>10}  "
                      f"{row['status']}")


@plans_app.command("reschedule")
def plans_reschedule(ctx: typer.Context, plan: int = typer.Argument(..., min=1, help="plan id"),
                     monthly: Decimal = typer.Option(..., help="the new monthly amount"),
                     limits: Path | None = typer.Option(None, exists=True, dir_okay=False,
                                                        help="plan limits per creditor and product (YAML); "
                                                             "default: the shipped example"),
                     today: date = typer.Option(..., formats=["%Y-%m-%d"], help="the day of the rescheduling")
                     ) -> None:
    """New dates and amounts for what is still owed, within the creditor's limits; the old schedule is audited."""
    from campaigns.repayment import OutsideLimits, limits_for, load_limits, respread
    from cases.models import Account, RepaymentPlan
    from cases.plans import PlanError, reschedule, schedule_of
    from cases.statements import EXAMPLES

    cli: CliContext = ctx.obj
    actor = cli.act("payments")
    day = today.date() if isinstance(today, datetime) else today  # typer parses a date option as a datetime
    with cli.migrated_store().session() as session:
        found = session.get(RepaymentPlan, plan)
        if found is None:
            raise fail(f"plan {plan}: no such plan")
        owner = session.get(Account, found.account_id)
        try:
            terms = limits_for(load_limits(limits or EXAMPLES / "plan-limits.yaml"), owner.creditor,
                               owner.product.value)
            rows = schedule_of(reschedule(session, plan, respread(monthly, terms, day), actor=actor,
                                                    details={"monthly": str(monthly)}))
        except (LookupError, PlanError, OutsideLimits, ValueError) as error:
            raise fail(str(error)) from None
    for row in rows:
        console.print(f"{row['seq']:>3}  {row['due_date']}  {row['amount']:>10}  {row['status']}")
