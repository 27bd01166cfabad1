"""A node's transcription workers: separate processes fed by the durable job stream (recordings/jobs.py).

`dunline serve` runs them with a `WorkerSupervisor`; `dunline worker` runs more in the foreground on other
machines; `dunline transcribe` runs a pool for files. Every pool is built by `transcription_pool`, so every
worker screens the attempts' jobs it takes (campaigns.aftercall.ScreenTranscripts) and saves the findings
and holds in the case store named by the settings: whichever worker takes a call's job, the call ends
screened, and no worker can complete an attempt's job without screening it.

From the server (a sketch; `recovery.sweep_aftercalls` first, so that recordings a crash left without an
after-call job are queued in the case store too):

    workers = WorkerSupervisor(settings, redis_url=redis_url)  # settings.transcription_workers processes
    workers.start()  # queues the case store's after-call backlog on the stream, starts the workers
    after_call = workers.after_call(store)  # the runners' step: each closed recording onto the same stream
    ...
    workers.stop()   # blocking (up to the grace period): call it off the event loop, e.g. asyncio.to_thread
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import redis

from campaigns.aftercall import AfterCall, ScreenTranscripts
from cases import Store
from dunline.installation import master_keys
from dunline.redis_server import connect
from dunline.settings import Settings
from recordings.jobs import JobQueue
from recordings.transcripts import TranscriptStore
from recordings.worker import STOP_GRACE_S, WorkerPool

log = logging.getLogger(__name__)

CHECK_S = 2.0  # how often the supervisor looks for dead workers


def transcription_pool(settings: Settings, redis_url: str, processes: int, *,
                       languages: Sequence[str] | None = None, **options: Any) -> WorkerPool:
    """A pool of `processes` workers, the settings' language's model (or `languages`') loaded at start, each
    job transcribed in its own language, that screen the attempts' jobs into the settings' case store; `options` as WorkerPool's (prefixes, lease, model)."""
    keys = master_keys(settings.data_dir)
    return WorkerPool(redis_url, processes, languages=languages or (settings.transcription_language,),
                      after=ScreenTranscripts(settings.effective_database_url, keys), keys=keys, connect=connect,
                      **options)


class WorkerSupervisor:
    """Starts `count` workers (default: settings.transcription_workers; 0 starts none), replaces any that dies
    (up to WorkerPool's restart limit, so a worker that cannot start is not restarted for ever) and stops
    them. A worker killed mid-job loses nothing: its job goes to the next worker when its lease runs out."""

    def __init__(self, settings: Settings, *, redis_url: str, count: int | None = None, check_s: float = CHECK_S,
                 **options: Any) -> None:
        self.settings, self.redis_url, self.check_s = settings, redis_url, check_s
        self.count = settings.transcription_workers if count is None else count
        self.pool = transcription_pool(settings, redis_url, self.count, **options)
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def _queue(self, client: redis.Redis) -> JobQueue:
        options = self.pool.options
        return JobQueue(client, prefix=options["prefix"], lease_s=options["lease_s"],
                        transcripts=TranscriptStore(client, options["transcript_prefix"], options["keys"]))

    def after_call(self, store: Store) -> AfterCall:
        """The runners' after-call step, queueing on the stream these workers read."""
        return AfterCall(store, self._queue(connect(self.redis_url)), keys=self.pool.options["keys"])

    def transcripts(self) -> TranscriptStore:
        """The transcripts' copies of record these workers store (the retention job deletes expired ones)."""
        return TranscriptStore(connect(self.redis_url), self.pool.options["transcript_prefix"],
                               self.pool.options["keys"])

    def enqueue_backlog(self) -> list[int]:
        """Put every attempt the case store holds as queued for its after-call step on the stream; their ids."""
        store = Store(self.settings.effective_database_url, keys=self.pool.options["keys"])
        after_call = self.after_call(store)
        try:
            return after_call.enqueue_backlog()
        finally:
            after_call.jobs.client.close()
            store.dispose()

    def start(self) -> list[int]:
        """Queue the after-call backlog, start the workers and the thread that replaces dead ones; the attempts
        queued."""
        queued = self.enqueue_backlog()
        if queued:
            log.info("%d after-call job(s) waiting in the case store queued for transcription", len(queued))
        if self.count:
            self._stopping.clear()
            self.pool.start()
            self._watcher = threading.Thread(target=self._watch, name="transcription-supervisor", daemon=True)
            self._watcher.start()
        return queued

    def _watch(self) -> None:
        while not self._stopping.wait(self.check_s):
            self.pool.replace_dead()

    def alive(self) -> int:
        return self.pool.alive()

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop the workers: they give their jobs back at the next segment; one still busy after `grace_s` is
        terminated and its job is redone after its lease."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        self.pool.stop(grace_s)
