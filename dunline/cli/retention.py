"""`dunline retention`: destroy the recordings and transcripts past their retention (campaigns.destruction)."""

from __future__ import annotations

import typer

from dunline.cli.context import CliContext, console, fail

retention_app = typer.Typer(help="Retention and destruction of call records.", no_args_is_help=True)


@retention_app.command("run")
def retention_run(ctx: typer.Context,
                  dry_run: bool = typer.Option(False, "--dry-run", help="list what is due; destroy nothing")) -> None:
    """Crypto-shred every recording and transcript past its jurisdiction's retention (recordings/retention.yaml)
    that no legal or dispute hold keeps; each destruction audited. `dunline serve` runs this once a day."""
    import redis

    from campaigns.destruction import Destruction
    from cases.models import utcnow
    from dunline.cli.transcribe import redis_url
    from recordings.retention import load_policies
    from recordings.transcripts import TranscriptStore

    cli: CliContext = ctx.obj
    actor = cli.act("retention run")
    with redis_url(cli.settings) as url:  # the transcripts' copies of record go with their files
        transcripts = TranscriptStore(redis.Redis.from_url(url))
        job = Destruction(cli.migrated_store(), load_policies(), transcripts=transcripts,
                          actor=f"retention ({actor})")
        try:
            report = job.run(utcnow(), dry_run=dry_run)
        finally:
            transcripts.client.close()
    for item in report.destroyed:
        console.print(f"{'due' if dry_run else 'destroyed'}: attempt {item.attempt_id} {item.kind.value} "
                      f"({item.jurisdiction}, due {item.due:%Y-%m-%d})")
    console.print(f"{len(report.destroyed)} record(s) {'due' if dry_run else 'destroyed'}; {len(report.held)} "
                  f"call(s) past their time kept by a hold; {len(report.no_policy)} of no known jurisdiction kept")
    for attempt_id, why in report.failed.items():
        console.print(f"[red]attempt {attempt_id}[/red]: {why}")
    if report.failed:
        raise fail(f"{len(report.failed)} call(s) not destroyed")
