"""`dunline cases` and `dunline import cases`: the portfolio from the command line."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from cases.masking import mask_birth_date, mask_national_id, mask_phone
from cases.dpd import DPD_BUCKETS
from dunline.cli.context import CliContext, console, fail

if TYPE_CHECKING:
    from cases.importer import ImportReport
    from cases.models import Debtor
    from cases.segments import CaseSummary

cases_app = typer.Typer(help="Browse cases and segments.", no_args_is_help=True)
import_app = typer.Typer(help="Import data files.", no_args_is_help=True)

SHOWN_ERRORS = 50


@import_app.command("cases")
def import_cases(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or XLSX file"),
    mapping: Path | None = typer.Option(None, "--mapping", "-m", exists=True, help="column-mapping TOML file"),
    region: str | None = typer.Option(None, help="region for numbers written without +country (default: settings)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="validate and count, write nothing"),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="import the valid rows, skip the invalid ones"),
    errors_csv: Path | None = typer.Option(None, "--errors", help="write every row error to this CSV"),
) -> None:
    """Import cases; a file with any invalid row imports nothing unless --skip-invalid."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from cases.importer import CaseImporter, ColumnMapping, MappingError, UnreadableFile

    cli: CliContext = ctx.obj
    actor = cli.act("import cases")
    store = cli.migrated_store()
    try:
        column_mapping = ColumnMapping.load(mapping) if mapping else ColumnMapping()
        importer = CaseImporter(store, actor=actor, default_region=(region or cli.settings.default_region).upper())
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=console, transient=True) as bar:
            task = bar.add_task(f"importing {file.name}", total=None)
            report = importer.run(file, column_mapping, dry_run=dry_run, skip_invalid=skip_invalid,
                                  progress=lambda done, total: bar.update(task, completed=done, total=total))
    except (MappingError, UnreadableFile) as error:
        raise fail(str(error)) from None
    _print_import_report(report, errors_csv)
    if report.invalid_rows and not skip_invalid:
        raise typer.Exit(1)


def _print_import_report(report: ImportReport, errors_csv: Path | None) -> None:
    if report.errors:
        table = Table(title=f"{report.invalid_rows} invalid row(s)", title_justify="left")
        for column in ("row", "column", "value", "reason"):
            table.add_column(column)
        for error in report.errors[:SHOWN_ERRORS]:
            table.add_row(str(error.row), error.column, error.value, error.reason)
        console.print(table)
        if len(report.errors) > SHOWN_ERRORS:
            console.print(f"... {len(report.errors) - SHOWN_ERRORS} more; use --errors FILE for the full list")
    if errors_csv and report.errors:
        with errors_csv.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "column", "value", "reason"])
            writer.writerows((e.row, e.column, e.value, e.reason) for e in report.errors)
    verdict = ("dry run, nothing written" if report.dry_run else
               "committed" if report.committed else "[red]nothing imported[/red] (fix the rows or use --skip-invalid)")
    read_as = f" (read as {report.encoding})" if report.encoding else ""
    console.print(f"{report.file_name}{read_as}: {report.rows} rows, {report.inserted} new, {report.updated} updated, "
                  f"{report.unchanged} unchanged, {report.invalid_rows} invalid - {verdict}")


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


@cases_app.command("list")
def list_command(
    ctx: typer.Context,
    dpd: list[str] = typer.Option([], help=f"days-past-due bucket(s): {', '.join(DPD_BUCKETS)}"),
    min_balance: Decimal | None = typer.Option(None),
    max_balance: Decimal | None = typer.Option(None),
    region: list[str] = typer.Option([], help="address region (province/state)"),
    product: list[str] = typer.Option([]),
    language: list[str] = typer.Option([]),
    jurisdiction: list[str] = typer.Option([]),
    status: list[str] = typer.Option([], help="account status (default: open, promised, on_plan)"),
    not_contacted_for: int | None = typer.Option(None, help="no attempt in the last N days"),
    contacted_within: int | None = typer.Option(None, help="an attempt in the last N days"),
    limit: int = typer.Option(50),
    offset: int = typer.Option(0),
    unmask: bool = typer.Option(False, help="show personal data (roles allowed to see it only)"),
) -> None:
    """List the cases in a segment."""
    from cases.segments import Segment, UnknownBucket, count_cases, list_cases

    cli: CliContext = ctx.obj
    store = cli.migrated_store()
    try:
        segment = Segment(dpd=_split(dpd), min_balance=min_balance, max_balance=max_balance, regions=_split(region),
                          products=_split(product), languages=_split(language), jurisdictions=_split(jurisdiction),
                          not_contacted_for_days=not_contacted_for, contacted_within_days=contacted_within,
                          **({"statuses": _split(status)} if status else {}))
    except UnknownBucket as error:
        raise fail(str(error)) from None
    if unmask:
        cli.authorise_unmask("cases list")
    today = date.today()
    with store.session() as session:
        total = count_cases(session, segment, today)
        rows = list_cases(session, segment, today, limit=limit, offset=offset)
    table = Table(title=f"{total} case(s) in segment, showing {len(rows)}", title_justify="left")
    for column in ("id", "account", "creditor", "name", "phone", "region", "product", "balance", "overdue", "dpd",
                   "juris.", "status", "last attempt"):
        table.add_column(column, justify="right" if column in ("balance", "overdue", "dpd", "id") else "left")
    for case in rows:
        table.add_row(str(case.account_id), case.account_ref, case.creditor, case.full_name,
                      case.phone if unmask else mask_phone(case.phone), case.region or "", case.product,
                      f"{case.currency} {case.balance:,.2f}", f"{case.overdue_amount:,.2f}", str(case.days_past_due),
                      case.jurisdiction, case.status,
                      case.last_attempt_at.strftime("%Y-%m-%d %H:%M") if case.last_attempt_at else "never")
    console.print(table)


@cases_app.command("show")
def show_command(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="account id or the creditor's account reference"),
    unmask: bool = typer.Option(False, help="show personal data (roles allowed to see it only)"),
) -> None:
    """Show one case: debtor, phones, account, recent attempts and promises."""
    from sqlalchemy import select

    from cases.models import Account, Attempt, Promise
    from cases.segments import load_summaries

    cli: CliContext = ctx.obj
    store = cli.migrated_store()
    if unmask:
        cli.authorise_unmask(f"cases show {ref}")
    with store.session() as session:
        query = select(Account.id).where(Account.account_ref == ref)
        if ref.isdigit():
            query = select(Account.id).where((Account.id == int(ref)) | (Account.account_ref == ref))
        ids = list(session.execute(query.limit(2)).scalars())
        if not ids:
            raise fail(f"no case with id or account reference {ref!r}")
        if len(ids) > 1:
            raise fail(f"{ref!r} matches several accounts (one by id, one by reference); use the account id")
        summary = load_summaries(session, ids, date.today())[0]
        account = session.get(Account, ids[0])
        assert account is not None
        phones = list(account.debtor.phones)
        attempts = list(session.execute(select(Attempt).where(Attempt.account_id == account.id)
                                        .order_by(Attempt.started_at.desc()).limit(10)).scalars())
        promises = list(session.execute(select(Promise).where(Promise.account_id == account.id)
                                        .order_by(Promise.created_at.desc()).limit(10)).scalars())
        _print_case(summary, account.debtor, phones, attempts, promises, unmask)


def _print_case(case: CaseSummary, debtor: Debtor, phones: list, attempts: list,  # type: ignore[type-arg]
                promises: list, unmask: bool) -> None:  # type: ignore[type-arg]
    nid = debtor.national_id if unmask else mask_national_id(debtor.national_id)
    born = str(debtor.birth_date or "") if unmask else mask_birth_date(debtor.birth_date)
    console.print(f"[bold]{case.full_name}[/bold]  ID {nid or '-'}  born {born or '-'}  language {case.language}")
    console.print(f"account {case.account_ref} ({case.creditor}, {case.product}, {case.jurisdiction})  "
                  f"balance {case.currency} {case.balance:,.2f}  overdue {case.overdue_amount:,.2f}  "
                  f"dpd {case.days_past_due}  status {case.status}")
    table = Table(title="phones", title_justify="left")
    for column in ("number", "kind", "owner", "consent", "status", "dnc"):
        table.add_column(column)
    for phone in phones:
        table.add_row(phone.e164 if unmask else mask_phone(phone.e164), phone.kind.value, phone.owner.value,
                      "yes" if phone.consent_automated else "no", phone.status.value, "yes" if phone.dnc else "")
    console.print(table)
    if attempts:
        table = Table(title="recent attempts", title_justify="left")
        for column in ("id", "started", "number", "outcome", "sip", "disposition"):
            table.add_column(column)
        for attempt in attempts:
            table.add_row(str(attempt.id), attempt.started_at.strftime("%Y-%m-%d %H:%M"),
                          attempt.number_e164 if unmask else mask_phone(attempt.number_e164), attempt.outcome.value,
                          str(attempt.sip_code or ""), attempt.disposition or "")
        console.print(table)
    for promise in promises:
        console.print(f"promise {promise.amount:,.2f} for {promise.promised_for} ({promise.source.value}, {promise.status.value})")
