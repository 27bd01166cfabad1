"""`dunline worker`: transcription workers in the foreground, for more of them on machines other than the
server's. They take the after-call jobs from the Redis the settings name (or the embedded one of a
`dunline serve` on this machine), screen each call into the case store named by `database_url`, and need
the recordings at the paths the server wrote (shared storage)."""

from __future__ import annotations

import signal
import threading

import typer

from dunline.cli.context import CliContext, console, fail
from dunline.cli.transcribe import running_redis


def worker(
    ctx: typer.Context,
    count: int | None = typer.Option(None, "--count", "-n", min=1, max=64,
                                     help="worker processes, one compute thread each (default: "
                                          "transcription_workers, at least 1)"),
) -> None:
    """Run transcription workers until interrupted (SIGINT/SIGTERM); they give unfinished jobs back."""
    from dunline.logs import configure_logging
    from dunline.workers import WorkerSupervisor

    cli: CliContext = ctx.obj
    configure_logging(cli.settings.log_level)
    url = running_redis(cli.settings)
    if url is None:
        raise fail("no Redis to take jobs from: set DUNLINE_REDIS_URL to the server's Redis "
                   "(or run `dunline serve` on this machine)")
    supervisor = WorkerSupervisor(cli.settings, redis_url=url,
                                  count=count or max(1, cli.settings.transcription_workers))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    queued = supervisor.start()
    console.print(f"{supervisor.count} transcription worker(s) on redis {url.split('@')[-1]}"
                  + (f"; {len(queued)} after-call job(s) from the case store queued" if queued else ""))
    try:
        while not stop.wait(1.0):
            continue  # a timed wait, so SIGINT/SIGTERM handlers get to run at least once a second
    finally:
        supervisor.stop()
    console.print("workers stopped; unfinished jobs given back")
