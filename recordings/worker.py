"""Transcription workers: processes of one compute thread each, fed by the job queue (recordings/jobs.py).

A worker loads its model once per language (the pool's languages before its first job), then claims a
job, transcribes it while a heartbeat thread extends its lease and reports progress, hands the transcript to
its `after` step (the after-call screening, campaigns/aftercall.py: this package knows no attempts), and
completes the job (the transcript is stored once) or reports the failure. The `after` step runs before the
completion, under the lease: a worker killed between the two leaves the job to be redone, and the step is
idempotent. Between two segments the worker checks whether it was asked to stop (it gives the job back, not
counted as an attempt) or lost the job to another worker (it drops it). A worker killed mid-job loses
nothing: its lease runs out and the next worker to ask takes the job over (see jobs.py). Redis going away is waited out; a completion lost with it is redone after the lease.

`WorkerPool` starts N such processes with the spawn method (a fresh interpreter each, no inherited locks or
threads), every native thread pool set to one thread (CTranslate2 `cpu_threads=1`, ONNX Runtime for the VAD,
OpenMP/BLAS through the environment), replaces a worker that died, and stops them: workers give their jobs
back at the next segment; one still busy after the grace period is terminated, and its job goes back to the
queue when its lease expires. Workers ignore SIGINT: Ctrl-C in a terminal reaches the whole process group,
and it is the pool that stops them.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any, Protocol

from crypto import MasterKeys, SealedFileError
from recordings.jobs import LEASE_S, MAX_ATTEMPTS, PREFIX, Job, JobQueue
from recordings.storage import open_recording
from recordings.transcripts import TRANSCRIPT_PREFIX, RecordingTranscript

log = logging.getLogger(__name__)

SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                     "NUMEXPR_NUM_THREADS": "1"}
STOP_GRACE_S = 10.0
NICE = 10  # a pool worker's niceness above its starter's
REDIS_RETRY_S = 1.0
MAX_RESTARTS = 3  # per worker slot within RESTART_WINDOW_S: a worker that keeps dying (no model, no Redis) is
RESTART_WINDOW_S = 600.0  # not restarted in a tight loop, yet a server that runs for months still replaces one


class StopFlag(Protocol):
    """A multiprocessing or threading Event: set when the worker is to stop."""

    def is_set(self) -> bool: ...


class AfterTranscript(Protocol):
    """What a worker does with a transcript before its job counts as done; raising fails the attempt (the job
    is retried). Idempotent (a job may be redone after a worker presumed dead finished it) and picklable: it
    travels to spawned workers."""

    def __call__(self, job_id: str, record: RecordingTranscript) -> None: ...


class _Stopped(Exception):
    """The worker was asked to stop in the middle of a job."""


class _TakenOver(Exception):
    """The job's lease lapsed (this worker was presumed dead) and another worker holds it now."""


class _Heartbeat:
    """A thread that extends the job's lease every `interval` s and reports the progress seen last; the
    progress callback ends the job early once the worker is asked to stop or the job is another's."""

    def __init__(self, queue: JobQueue, job: Job, worker: str, interval: float, stop: StopFlag | None) -> None:
        self.queue, self.job, self.worker, self.interval, self.stop = queue, job, worker, interval, stop
        self.fraction: float | None = 0.0
        self.lost = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job.id}", daemon=True)

    def progress(self, fraction: float) -> None:
        if self.stop is not None and self.stop.is_set():
            raise _Stopped
        if self.lost:
            raise _TakenOver
        self.fraction = fraction

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            try:
                if not self.queue.heartbeat(self.job, self.worker, self.fraction):
                    self.lost = True  # taken over (or finished by another): stop at the next segment
            except Exception as error:  # Redis away for a moment: the lease may lapse, the job is then redone
                log.warning("heartbeat for job %s failed: %s", self.job.id, error)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def run_worker(redis_url: str, *, prefix: str = PREFIX, transcript_prefix: str = TRANSCRIPT_PREFIX,
               lease_s: float = LEASE_S, max_attempts: int = MAX_ATTEMPTS, model_path: Path | None = None,
               languages: Sequence[str] = (), stop: StopFlag | None = None, block_s: float = 1.0,
               max_jobs: int | None = None, after: AfterTranscript | None = None,
               keys: MasterKeys | None = None, connect: Callable[[str], Any] | None = None) -> int:
    """The worker loop, until `stop` is set (or `max_jobs` are done); the number of jobs completed.
    `connect(redis_url)`: the Redis client (default: redis-py's reading of the URL).

    Run by WorkerPool in a process of its own; its compute is one thread (the model's `threads=1`; the
    pool sets SINGLE_THREAD_ENV for the native libraries before the process starts). `keys` open sealed
    recordings (decrypted as read, never written out plain)."""
    import redis

    from recordings.transcripts import TranscriptStore
    from speech.models import ModelNotFound
    from speech.transcribe import Transcriber

    me = worker_name()
    client = (connect or redis.Redis.from_url)(redis_url)
    queue = JobQueue(client, prefix=prefix, lease_s=lease_s, max_attempts=max_attempts,
                     transcripts=TranscriptStore(client, transcript_prefix, keys))
    transcribers: dict[str, Transcriber] = {}
    for language in languages:
        try:
            transcribers[language] = Transcriber(language, model_path, threads=1)
        except ModelNotFound as error:  # its jobs will fail with this, and say so
            log.error("worker %s: %s", me, error)

    def work(job: Job) -> bool:
        log.info("worker %s: job %s (%s), attempt %d", me, job.id, job.recording, job.attempts)
        started = time.perf_counter()
        record: RecordingTranscript | None = None
        with _Heartbeat(queue, job, me, interval=min(lease_s / 3, 2.0), stop=stop) as beat:
            try:
                if job.language not in transcribers:
                    transcribers[job.language] = Transcriber(job.language, model_path, threads=1)
                transcriber = transcribers[job.language]
                with open_recording(Path(job.recording), keys) as source:
                    transcript = transcriber.transcribe_stereo(source, progress=beat.progress)
                record = RecordingTranscript(job.id, job.recording, transcript, transcriber.engine)
                if after is not None:
                    after(job.id, record)
            except _Stopped:
                queue.release(job, me)
                log.info("worker %s: stopping; job %s given back", me, job.id)
                return False
            except _TakenOver:
                log.warning("worker %s: job %s was taken over by another worker; dropped", me, job.id)
                return False
            except Exception as error:
                # an unreadable recording or no model: trying again won't help (an error of the after step,
                # such as the database away, is worth another attempt)
                permanent = record is None and isinstance(error, (ValueError, FileNotFoundError, ModelNotFound,
                                                                  SealedFileError))
                state = queue.fail(job, me, f"{error.__class__.__name__}: {error}", permanent=permanent)
                log.warning("worker %s: job %s failed (%s), now %s", me, job.id, error, state)
                return False
        stored = queue.complete(job, record, me, time.perf_counter() - started)
        log.info("worker %s: job %s done%s", me, job.id, "" if stored else " (already stored by another worker)")
        return True

    def stopping() -> bool:
        return stop is not None and stop.is_set()

    done = 0
    while not stopping() and (max_jobs is None or done < max_jobs):
        try:
            job = queue.claim(me, block_s)
            if job is not None and work(job):
                done += 1
        except (redis.ConnectionError, redis.TimeoutError) as error:
            if stopping():
                break
            # Redis restarting: a job whose completion was lost here is redone when its lease runs out
            log.warning("worker %s: Redis unreachable (%s); trying again in %.0f s", me, error, REDIS_RETRY_S)
            time.sleep(REDIS_RETRY_S)
    return done


def _pool_worker(redis_url: str, **options: Any) -> None:
    """A pool's worker process: Ctrl-C in the terminal reaches the whole process group; the pool, not the
    signal, stops its workers. It runs below its starter's priority (`NICE`): on a node where `dunline serve`
    starts it, a transcript ready a moment later costs nothing, a late tick of the media clock is heard."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICE)
    run_worker(redis_url, **options)


@contextlib.contextmanager
def _single_threaded_environment() -> Iterator[None]:
    """The environment a spawned child starts with: native thread pools of one thread."""
    saved = {name: os.environ.get(name) for name in SINGLE_THREAD_ENV}
    os.environ.update(SINGLE_THREAD_ENV)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class WorkerPool:
    """N worker processes on one Redis; use as a context manager or call start() and stop()."""

    def __init__(self, redis_url: str, processes: int = 1, *, prefix: str = PREFIX,
                 transcript_prefix: str = TRANSCRIPT_PREFIX, lease_s: float = LEASE_S,
                 max_attempts: int = MAX_ATTEMPTS, model_path: Path | None = None,
                 languages: Sequence[str] = (), after: AfterTranscript | None = None,
                 keys: MasterKeys | None = None, connect: Callable[[str], Any] | None = None) -> None:
        """`connect`: as run_worker's, a module-level function (the workers are spawned processes)."""
        self.redis_url, self.size = redis_url, processes
        self.options: dict[str, Any] = {"prefix": prefix, "transcript_prefix": transcript_prefix, "lease_s": lease_s,
                                        "max_attempts": max_attempts, "model_path": model_path,
                                        "languages": tuple(languages), "after": after, "keys": keys,
                                        "connect": connect}
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self.processes: list[SpawnProcess] = []
        self.restarts: collections.deque[float] = collections.deque()  # when each replacement was started
        self._held_back: set[int | None] = set()  # dead workers already reported as waiting for the window

    def _spawn(self) -> SpawnProcess:
        process = self._context.Process(target=_pool_worker, args=(self.redis_url,),
                                        kwargs={**self.options, "stop": self._stop}, daemon=True,
                                        name="dunline-transcriber")
        with _single_threaded_environment():
            process.start()
        return process

    def start(self) -> None:
        self._stop.clear()
        self.processes = [self._spawn() for _ in range(self.size)]

    def alive(self) -> int:
        return sum(p.is_alive() for p in self.processes)

    def replace_dead(self, now: float | None = None) -> int:
        """Start a new worker for each that died (not for those that stopped on request), at most MAX_RESTARTS
        per worker slot within RESTART_WINDOW_S; how many were started."""
        if self._stop.is_set():
            return 0
        now = time.monotonic() if now is None else now
        while self.restarts and self.restarts[0] <= now - RESTART_WINDOW_S:
            self.restarts.popleft()
        replaced = 0
        for index, process in enumerate(self.processes):
            if process.is_alive():
                continue
            if len(self.restarts) >= MAX_RESTARTS * self.size:
                if process.pid not in self._held_back:
                    self._held_back.add(process.pid)
                    log.error("transcription worker %s exited with %s after %d restarts in %.0f s; replacing it "
                              "once the window allows", process.pid, process.exitcode, len(self.restarts),
                              RESTART_WINDOW_S)
                continue
            self.restarts.append(now)
            log.warning("transcription worker %s exited with %s; starting another", process.pid, process.exitcode)
            self._held_back.discard(process.pid)
            process.close()
            self.processes[index] = self._spawn()
            replaced += 1
        return replaced

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        self._stop.set()
        deadline = time.monotonic() + grace_s
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # its job returns to the queue when the lease runs out
                process.join(5)
            if process.is_alive():
                process.kill()
                process.join()
        self.processes = []

    def __enter__(self) -> WorkerPool:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
