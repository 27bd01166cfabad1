"""`dunline audit access` (who viewed which debtor, with the anomaly report, or as CSV) and `dunline subject
export` (everything held on one debtor). Both act with a proven identity and the roles of their API routes."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dunline.cli.context import CliContext, console, fail

subject_app = typer.Typer(help="Data subjects: subject-access export.", no_args_is_help=True)


def audit_access(
    ctx: typer.Context,
    since: str | None = typer.Option(None, help="from YYYY-MM-DD (UTC) or an ISO instant"),
    until: str | None = typer.Option(None, help="to YYYY-MM-DD (UTC, that day included) or an ISO instant"),
    operator: str | None = typer.Option(None, help="only this user's views"),
    debtor: str | None = typer.Option(None, help="only views of this debtor (their reference)"),
    csv: bool = typer.Option(False, "--csv", help="every view as CSV on standard output, for an auditor"),
    ratio: float | None = typer.Option(None, help="flag operators above this many cases viewed per case called"),
    min_views: int | None = typer.Option(None, help="... who viewed at least this many cases"),
) -> None:
    """Who viewed or unmasked which debtor, from the audit log, and who viewed far more cases than they called
    (audited)."""
    from console.access_review import read_csv, read_page, review_query
    from console.errors import BadParameter

    cli: CliContext = ctx.obj
    actor = cli.act("audit access")
    asked = {key: str(value) for key, value in {"since": since, "until": until, "user": operator, "debtor": debtor,
                                                "ratio": ratio, "min_views": min_views}.items() if value is not None}
    try:
        review = review_query(asked, limit=None)
    except BadParameter as error:
        raise fail(str(error)) from None
    store = cli.migrated_store()
    if csv:
        typer.echo(read_csv(store, actor, review), nl=False)
        return
    found = read_page(store, actor, review)
    views = Table(title=f"views: {found['total']}")
    for column in ("at", "actor", "action", "how", "debtor", "account", "attempt", "unmasked"):
        views.add_column(column)
    for row in found["rows"]:
        views.add_row(f"{row.at:%Y-%m-%d %H:%M:%S}", row.actor, row.action, row.what, row.debtor_ref or "-",
                      row.account_ref or "-", str(row.attempt_id or "-"), row.unmasked)
    console.print(views)
    tallies = Table(title=f"cases viewed per case called (flagged above {review.ratio:g}, from {review.min_views} views)")
    for column in ("actor", "role", "viewed", "called", "ratio", "flag"):
        tallies.add_column(column)
    for tally in found["tallies"]:
        tallies.add_row(tally.actor, tally.role or "-", str(tally.cases_viewed), str(tally.cases_called),
                        f"{tally.ratio:.1f}" if tally.ratio is not None else "inf", "FLAGGED" if tally.flagged else "")
    console.print(tallies)


@subject_app.command("export")
def subject_export(ctx: typer.Context,
                   debtor: str = typer.Option(..., "--debtor", metavar="REF", help="the debtor's reference"),
                   out: Path = typer.Argument(..., help="FILE.json, or FILE.zip to add the call recordings")) -> None:
    """Everything held on one debtor, unmasked, for a subject-access request (administrators; audited)."""
    from cases.models import utcnow
    from cases.subject_export import SubjectNotFound, export_subject, to_json, write_zip
    from console.subjects import recording_reader
    from dunline.installation import master_keys

    cli: CliContext = ctx.obj
    actor = cli.act("subject export")
    form = "zip" if out.suffix == ".zip" else "json"
    try:
        with cli.migrated_store().session() as session:
            export = export_subject(session, debtor, actor=actor, now=utcnow(), via=f"cli {form}")
    except SubjectNotFound:
        raise fail(f"no debtor {debtor!r}") from None
    if form == "json":
        out.write_text(to_json(export), encoding="utf-8")
        console.print(f"{out}: debtor {debtor}, {len(export.recordings)} recording(s) listed")
        return
    data_dir = cli.settings.data_dir
    with out.open("wb") as handle:
        missing = write_zip(export, handle, recording_reader(data_dir / "recordings", master_keys(data_dir)))
    console.print(f"{out}: debtor {debtor}, {len(export.recordings) - len(missing)} of {len(export.recordings)} "
                  f"recording(s) included")
    for path in missing:
        console.print(f"  not included (absent or unreadable): {path}", markup=False, highlight=False)
