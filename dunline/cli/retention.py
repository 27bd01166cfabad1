"""`dunline retention`: destroy the recordings, transcripts, attempt rows and closed cases past their retention
(campaigns.destruction)."""

from __future__ import annotations

import typer

from dunline.cli.context import CliContext, console, fail

retention_app = typer.Typer(help="Retention and destruction of call records.", no_args_is_help=True)


@retention_app.command("run")
def retention_run(ctx: typer.Context,
                  dry_run: bool = typer.Option(False, "--dry-run", help="list what is due; destroy nothing")) -> None:
    """Crypto-shred every recording and transcript past its jurisdiction's retention (recordings/retention.yaml),
    delete the attempt rows and erase the closed cases past theirs, all that no legal or dispute hold keeps; each
    destruction audited and logged with the law it applied. `dunline serve` runs this once a day."""
    from campaigns.destruction import Destruction
    from cases.models import utcnow
    from dunline.cli.transcribe import redis_url
    from dunline.redis_server import connect
    from recordings.retention import RecordKind, load_policies
    from recordings.transcripts import TranscriptStore

    cli: CliContext = ctx.obj
    actor = cli.act("retention run")
    with redis_url(cli.settings) as url:  # the transcripts' copies of record go with their files
        transcripts = TranscriptStore(connect(url))
        job = Destruction(cli.migrated_store(), load_policies(), transcripts=transcripts,
                          actor=f"retention ({actor})")
        try:
            report = job.run(utcnow(), dry_run=dry_run)
        finally:
            transcripts.client.close()
    verb = "due" if dry_run else "destroyed"
    for item in report.destroyed:
        console.print(f"{verb}: attempt {item.attempt_id} {item.kind.value} "
                      f"({item.jurisdiction}, due {item.due:%Y-%m-%d})")
    for batch in report.rows:
        tally = ", ".join(f"{name} {count}" for name, count in sorted(batch.tally.items()))
        console.print(f"{verb}: {batch.count} {batch.kind.value} ({batch.jurisdiction}: {tally})")
    attempts, cases = report.count(RecordKind.ATTEMPTS), report.count(RecordKind.CLOSED_CASES)
    console.print(f"{len(report.destroyed) + attempts + cases} record(s) {verb} ({len(report.destroyed)} recording/"
                  f"transcript(s), {attempts} attempt row(s), {cases} closed case(s)); {len(report.held)} call(s) "
                  f"and {len(report.held_cases)} case(s) past their time kept by a hold; {len(report.no_policy)} "
                  f"call(s) of no known jurisdiction kept; {sum(report.waiting.values())} row(s) or case(s) wait "
                  "for their recordings to go first")
    for attempt_id, why in report.failed.items():
        console.print(f"[red]attempt {attempt_id}[/red]: {why}")
    if report.failed:
        raise fail(f"{len(report.failed)} call(s) not destroyed")
