"""`dunline transcribe FILES...`: stereo call recordings to speaker-labelled, timestamped transcripts.

Each file becomes a job on the durable queue (recordings/jobs.py) in the configured Redis, or in the
embedded server (the one `dunline serve` runs, if it is running, else one started for this command); a pool
of worker processes, one compute thread each, works them off while a progress bar counts seconds of audio.
A recording already transcribed is not transcribed again. Interrupted, the jobs stay queued and the next run
(or any worker) finishes them. Each transcript is kept in Redis and written beside its recording as
`<name>.transcript.json` (recordings/transcripts.py).
"""

from __future__ import annotations

import contextlib
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from dunline.cli.context import CliContext, console, errors, fail

if TYPE_CHECKING:
    from dunline.settings import Settings
    from recordings.jobs import JobQueue
    from recordings.transcripts import RecordingTranscript
    from recordings.worker import WorkerPool

POLL_S = 0.25


def transcribe(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                       help="stereo WAV recordings: left the debtor, right the agent"),
    language: str = typer.Option("en", "--language", "-l", help="the campaign's language (fixed, never detected)"),
    workers: int = typer.Option(1, "--workers", "-w", min=1, max=64, help="worker processes, one thread each"),
    model: Path | None = typer.Option(None, "--model", exists=True, file_okay=False,
                                      help="faster-whisper model directory (default: $DUNLINE_WHISPER_MODEL_<LANG>, "
                                           "else an installed model package)"),
    write_json: bool = typer.Option(True, "--write-json/--no-write-json",
                                    help="write <name>.transcript.json beside each file"),
) -> None:
    """Transcribe recordings per channel (debtor, agent) with a pool of workers fed by the job queue."""
    from dunline.installation import master_keys
    from dunline.redis_server import connect
    from dunline.workers import transcription_pool
    from recordings.jobs import FINAL_STATES, JobQueue
    from recordings.transcripts import TranscriptStore
    from speech.models import ModelNotFound, find_model

    cli: CliContext = ctx.obj
    try:
        find_model("whisper", language, model)
    except ModelNotFound as error:
        raise fail(str(error)) from None
    durations: dict[Path, float] = {}
    skipped: dict[Path, str] = {}
    for path in dict.fromkeys(p.resolve() for p in files):
        try:
            durations[path] = stereo_seconds(path)
        except ValueError as error:
            skipped[path] = str(error)
    with redis_url(cli.settings) as url:
        client = connect(url)
        queue = JobQueue(client, transcripts=TranscriptStore(client, keys=master_keys(cli.settings.data_dir)))
        jobs = {path: queue.enqueue(path, language) for path in durations}
        open_jobs = [job for job in jobs.values() if queue.status(job).get("state") not in FINAL_STATES]
        if open_jobs:
            pool = transcription_pool(cli.settings, url, min(workers, len(open_jobs)), model_path=model,
                                      languages=(language,))
            _run_pool(queue, pool, jobs, durations)
        failed = _print_summary(queue, jobs, durations, skipped, write_json, language)
    if failed:
        raise typer.Exit(1)


def stereo_seconds(path: Path) -> float:
    """The length of a stereo WAV; ValueError saying why a file is not one."""
    try:
        with wave.open(str(path), "rb") as source:
            channels, frames, rate = source.getnchannels(), source.getnframes(), source.getframerate()
    except (wave.Error, EOFError) as error:
        raise ValueError(f"not a PCM WAV file ({error})") from None
    if channels != 2:
        raise ValueError(f"{channels} channel(s); a call recording is stereo (left debtor, right agent)")
    return frames / rate


def running_redis(settings: Settings) -> str | None:
    """The configured Redis, else the embedded server `dunline serve` runs on this machine, if it runs."""
    import redis

    if settings.redis_url:
        return settings.redis_url
    socket = settings.redis_socket
    with contextlib.suppress(redis.RedisError, OSError):
        if socket.exists() and redis.Redis(unix_socket_path=str(socket), socket_timeout=1).ping():
            return f"unix://{socket}"
    return None


@contextlib.contextmanager
def redis_url(settings: Settings) -> Iterator[str]:
    """The configured Redis; else the embedded server `dunline serve` runs; else one for this command."""
    from dunline.redis_server import EmbeddedRedis

    running = running_redis(settings)
    if running:
        yield running
        return
    embedded = EmbeddedRedis(settings.redis_socket, settings.data_dir / "redis")
    embedded.start()
    try:
        yield embedded.url
    finally:
        embedded.stop()


def _run_pool(queue: JobQueue, pool: WorkerPool, jobs: dict[Path, str], durations: dict[Path, float]) -> None:
    """Work the jobs off with `pool` (whose workers also screen any attempt's job they take on the way)."""
    import redis
    from rich.progress import (BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    from recordings.jobs import FINAL_STATES
    from recordings.worker import STOP_GRACE_S

    total = sum(durations.values()) or 1.0
    workers = pool.size
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[files]}"), TimeElapsedColumn(), TimeRemainingColumn())
    pool.start()
    grace = STOP_GRACE_S
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(f"transcribing ({workers} worker{'s' * (workers > 1)})", total=total, files="")
            while True:
                states = {path: queue.status(job) for path, job in jobs.items()}
                finished = [p for p, s in states.items() if s.get("state") in FINAL_STATES]
                done = sum(durations[p] * (1.0 if p in finished else float(s.get("progress") or 0))
                           for p, s in states.items())
                dead = sum(s.get("state") == "dead" for s in states.values())
                bar.update(task, completed=done, files=f"{len(finished)}/{len(jobs)} files"
                           + (f", [red]{dead} failed[/red]" if dead else ""))
                if len(finished) == len(jobs):
                    break
                pool.replace_dead()
                if pool.alive() == 0:
                    raise fail("the transcription workers keep exiting (their errors are printed above); "
                               "the jobs stay queued")
                time.sleep(POLL_S)
    except KeyboardInterrupt:
        grace = 3.0  # workers give their jobs back; one still busy after this is killed (lease, then retried)
        errors.print("interrupted: the unfinished recordings stay queued; run the command again to finish them")
        raise typer.Exit(130) from None
    except (redis.ConnectionError, redis.TimeoutError) as error:
        grace = 1.0
        raise fail(f"lost Redis ({error}); the unfinished recordings stay queued; run the command again "
                   "to finish them") from None
    finally:
        pool.stop(grace)


def _print_summary(queue: JobQueue, jobs: dict[Path, str], durations: dict[Path, float],
                   skipped: dict[Path, str], write_json: bool, language: str) -> int:
    """One row per file; the number of files without a transcript."""
    table = Table(title="transcripts", title_justify="left")
    for column in ("file", "audio s", "debtor", "agent", "took s", "transcript"):
        table.add_column(column, justify="right" if column in ("audio s", "debtor", "agent", "took s") else "left")
    failed = len(skipped)
    for path, job in jobs.items():
        status = queue.status(job)
        stored = queue.transcripts.get(job)
        if stored is None:
            failed += 1
            table.add_row(path.name, f"{durations[path]:.1f}", "", "", "",
                          f"[red]{status.get('state', 'unknown')}[/red]: {status.get('error', '')}")
            continue
        counts = stored.transcript.counts()
        took = f"{float(status['elapsed_s']):.1f}" if status.get("elapsed_s") else "earlier"
        where = _export(stored, path) if write_json else f"redis {queue.transcripts.key(job)}"
        if stored.transcript.language != language:  # one transcript per recording: the first one stays
            where += f" [yellow](transcribed earlier in {stored.transcript.language})[/yellow]"
        table.add_row(path.name, f"{stored.transcript.duration_s:.1f}", str(counts["debtor"]), str(counts["agent"]),
                      took, where)
    for path, reason in skipped.items():
        table.add_row(path.name, "", "", "", "", f"[red]skipped[/red]: {reason}")
    console.print(table)
    return failed


def _export(stored: RecordingTranscript, recording: Path) -> str:
    from crypto import is_sealed
    from recordings.transcripts import json_path

    if is_sealed(recording):  # a call's recording: its words are not written beside it in clear
        return "[yellow]kept in Redis only[/yellow] (the recording is sealed)"
    try:
        return str(stored.write_json(json_path(recording)))
    except OSError as error:
        return f"[yellow]kept in Redis only[/yellow] (cannot write {json_path(recording)}: {error.strerror})"
