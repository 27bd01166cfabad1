"""The durable transcription job queue, in Redis: a stream with a consumer group, one job per recording.

Why a stream and not lists (LMOVE from a pending list to per-worker lists): a consumer group keeps, on the
server, who holds each job (the pending entries list), since when (idle time) and how often it was handed
out (delivery count). A crashed worker's job is taken over atomically by the next worker that asks
(XAUTOCLAIM with the lease as minimum idle time), so there is no reaper process and no scan of per-worker
lists, and the attempt count is the server's, exact even when a worker dies between two commands.

Keys (prefix `dunline:transcribe`):

- `<prefix>:stream`, group `workers`: one entry `{job: <id>}` per job waiting or being worked on; entries are
  acknowledged and deleted when their job is done or dead, so the stream holds only open work.
- `<prefix>:job:<id>`: a hash: recording, language, state (queued, running, done, dead), attempts,
  worker, progress (0..1), error, enqueued_at / started_at / finished_at (epoch s), elapsed_s, message.
  Kept DONE_TTL_S after the job is done; the transcript itself is kept for good (recordings/transcripts.py).
- `<prefix>:dead`: the dead-letter list of job ids that failed MAX_ATTEMPTS times.

The life of a job, each step one Lua script so no crash can leave it half done:

- `enqueue`: job id = the recording's id; a recording queued, running or done is not queued again (and one
  whose transcript is stored counts as done); a dead one is queued afresh with its attempts reset.
- `claim`: an expired lease first (XAUTOCLAIM), else a new entry (XREADGROUP, blocking up to `block_s`);
  the job's attempts are the entry's delivery count; past MAX_ATTEMPTS the job goes to the dead letters
  instead of to the worker (a recording that kills every worker that touches it stops there).
- `heartbeat` (every lease/3 while working): resets the entry's idle time (XCLAIM JUSTID, by the owner only)
  and records progress; a worker that stops beating loses the job after LEASE_S.
- `complete`: stores the transcript with SET NX, marks the job done, acknowledges and deletes the entry. If
  a worker thought dead finishes after another, the first transcript stays and the second is dropped.
- `fail`: an error in the worker: the job is retried at once by whoever claims next (its idle time set past
  the lease), or dead when its attempts are spent or the error is permanent (an unreadable recording).
- `release`: a worker asked to stop gives its job back unfinished: claimable at once, its delivery count
  set back (XCLAIM RETRYCOUNT) so an interruption is not an attempt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from recordings import transcripts as _transcripts
from recordings.transcripts import RecordingTranscript, TranscriptStore

PREFIX = "dunline:transcribe"
GROUP = "workers"
LEASE_S = 60.0  # a job whose worker has not beaten for this long is handed to another worker
MAX_ATTEMPTS = 3
DONE_TTL_S = 7 * 24 * 3600
OPEN_STATES = ("queued", "running")
FINAL_STATES = ("done", "dead")

_ENQUEUE = """
local state = redis.call('HGET', KEYS[1], 'state')
if state and state ~= 'dead' then return state end
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HSET', KEYS[1], 'recording', ARGV[2], 'language', ARGV[3], 'state', 'done', 'progress', 1)
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 'done'
end
redis.call('LREM', KEYS[4], 0, ARGV[1])
local message = redis.call('XADD', KEYS[2], '*', 'job', ARGV[1])
redis.call('HSET', KEYS[1], 'recording', ARGV[2], 'language', ARGV[3], 'state', 'queued', 'attempts', 0,
           'progress', 0, 'error', '', 'worker', '', 'enqueued_at', ARGV[4], 'message', message)
redis.call('PERSIST', KEYS[1])
return 'queued'
"""

# The entry's owner and delivery count; nil unless `worker` holds it now.
_OWNED = """
local function owned(stream, group, message, worker)
  local pending = redis.call('XPENDING', stream, group, message, message, 1)
  if #pending == 0 or pending[1][2] ~= worker then return nil end
  return pending[1][4]
end
local function close_entry(stream, group, message)
  redis.call('XACK', stream, group, message)
  redis.call('XDEL', stream, message)
end
local function bury(job, stream, dead, group, message, id, error, now)
  close_entry(stream, group, message)
  redis.call('HSET', job, 'state', 'dead', 'error', error, 'finished_at', now)
  redis.call('RPUSH', dead, id)
end
"""

_BEGIN = _OWNED + """
local attempts = owned(KEYS[2], ARGV[1], ARGV[2], ARGV[3])
if not attempts then return {'lost'} end
local state = redis.call('HGET', KEYS[1], 'state')
if (state ~= 'queued' and state ~= 'running') or redis.call('HGET', KEYS[1], 'message') ~= ARGV[2] then
  close_entry(KEYS[2], ARGV[1], ARGV[2])
  return {'stale'}
end
if attempts > tonumber(ARGV[4]) then
  local last = redis.call('HGET', KEYS[1], 'error')
  if not last or last == '' then last = 'the worker stopped (crashed or was killed)' end
  bury(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[6],
       'gave up after ' .. ARGV[4] .. ' attempts; last: ' .. last, ARGV[5])
  return {'dead'}
end
redis.call('HSET', KEYS[1], 'state', 'running', 'attempts', attempts, 'worker', ARGV[3], 'started_at', ARGV[5],
           'progress', 0)
return {'running', attempts, redis.call('HGET', KEYS[1], 'recording'), redis.call('HGET', KEYS[1], 'language')}
"""

_HEARTBEAT = _OWNED + """
if not owned(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], 'progress', ARGV[4]) end
return 1
"""

_COMPLETE = _OWNED + """
local stored = redis.call('SET', KEYS[3], ARGV[3], 'NX')
close_entry(KEYS[2], ARGV[1], ARGV[2])
if stored then
  redis.call('HSET', KEYS[1], 'state', 'done', 'progress', 1, 'error', '', 'finished_at', ARGV[4],
             'elapsed_s', ARGV[5], 'worker', ARGV[6])
  redis.call('EXPIRE', KEYS[1], ARGV[7])
  redis.call('LREM', KEYS[4], 0, ARGV[8])  -- a worker presumed dead may finish a job buried meanwhile
  return 1
end
return 0
"""

_FAIL = _OWNED + """
local attempts = owned(KEYS[2], ARGV[1], ARGV[2], ARGV[3])
if not attempts then return 'lost' end
if attempts >= tonumber(ARGV[5]) or ARGV[6] == '1' then
  bury(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[8], ARGV[4], ARGV[7])
  return 'dead'
end
redis.call('XCLAIM', KEYS[2], ARGV[1], ARGV[3], 0, ARGV[2], 'IDLE', ARGV[9], 'JUSTID')
redis.call('HSET', KEYS[1], 'state', 'queued', 'error', ARGV[4], 'worker', '')
return 'queued'
"""

_RELEASE = _OWNED + """
local attempts = owned(KEYS[2], ARGV[1], ARGV[2], ARGV[3])
if not attempts then return 0 end
redis.call('XCLAIM', KEYS[2], ARGV[1], ARGV[3], 0, ARGV[2], 'IDLE', ARGV[4], 'RETRYCOUNT', attempts - 1, 'JUSTID')
redis.call('HSET', KEYS[1], 'state', 'queued', 'worker', '', 'attempts', attempts - 1, 'progress', 0)
return 1
"""


@dataclass(frozen=True)
class Job:
    id: str
    recording: str
    language: str
    attempts: int
    message: str  # the stream entry this hand-out is


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _stream_entries(reply: Any) -> list[tuple[str, str]]:
    """(entry id, job id) of each stream entry in an XREADGROUP or XAUTOCLAIM reply, shaped by RESP2
    (lists) or RESP3 (a map by stream); entries already deleted (no fields) are left out."""
    if isinstance(reply, list | tuple) and len(reply) == 2 and isinstance(reply[1], dict):
        fields = reply[1]
        job = fields.get(b"job", fields.get("job"))
        return [(_text(reply[0]), _text(job))] if job else []
    items = reply.values() if isinstance(reply, dict) else reply if isinstance(reply, list | tuple) else ()
    return [entry for item in items for entry in _stream_entries(item)]


class JobQueue:
    def __init__(self, client: redis.Redis, *, prefix: str = PREFIX, lease_s: float = LEASE_S,
                 max_attempts: int = MAX_ATTEMPTS, transcripts: TranscriptStore | None = None) -> None:
        self.client, self.prefix, self.lease_s, self.max_attempts = client, prefix, lease_s, max_attempts
        self.transcripts = transcripts or TranscriptStore(client)
        self.stream, self.dead_key = f"{prefix}:stream", f"{prefix}:dead"
        self._enqueue = client.register_script(_ENQUEUE)
        self._begin = client.register_script(_BEGIN)
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._complete = client.register_script(_COMPLETE)
        self._fail = client.register_script(_FAIL)
        self._release = client.register_script(_RELEASE)
        self._ensure_group()

    def job_key(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    def _ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def enqueue(self, recording: Path | str, language: str, *, recording_id: str | None = None) -> str:
        """Queue a recording for transcription in `language`; the job id (= the recording's id).

        Idempotent: a recording already queued, running or transcribed gets no second job."""
        path = str(Path(recording).resolve())
        job_id = recording_id or _transcripts.recording_id(path)
        self._enqueue(keys=[self.job_key(job_id), self.stream, self.transcripts.key(job_id), self.dead_key],
                      args=[job_id, path, language, time.time(), DONE_TTL_S])
        return job_id

    def claim(self, worker: str, block_s: float = 1.0) -> Job | None:
        """The next job for `worker`: one whose lease expired, else a new one (waiting up to `block_s`)."""
        for message, job_id in self._expired(worker) or self._new(worker, block_s):
            reply = self._begin(keys=[self.job_key(job_id), self.stream, self.dead_key],
                                args=[GROUP, message, worker, self.max_attempts, time.time(), job_id])
            if _text(reply[0]) == "running":
                return Job(job_id, _text(reply[2]), _text(reply[3]), int(reply[1]), message)
        return None

    def _expired(self, worker: str) -> list[tuple[str, str]]:
        cursor = "0-0"
        while True:
            try:
                reply = self.client.xautoclaim(self.stream, GROUP, worker, int(self.lease_s * 1000), cursor, count=1)
            except redis.ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                self._ensure_group()  # the stream was deleted (FLUSHDB); open work went with it
                return []
            cursor, entries = _text(reply[0]), _stream_entries(reply[1])
            if entries or cursor == "0-0":
                return entries

    def _new(self, worker: str, block_s: float) -> list[tuple[str, str]]:
        try:
            reply = self.client.xreadgroup(GROUP, worker, {self.stream: ">"}, count=1,
                                           block=max(1, int(block_s * 1000)))
        except redis.ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            self._ensure_group()
            return []
        return _stream_entries(reply)

    def heartbeat(self, job: Job, worker: str, progress: float | None = None) -> bool:
        """Extend the lease; False when the job is no longer this worker's (taken over or finished)."""
        return bool(self._heartbeat(keys=[self.stream, self.job_key(job.id)],
                                    args=[GROUP, job.message, worker, "" if progress is None else f"{progress:.4f}"]))

    def complete(self, job: Job, record: RecordingTranscript, worker: str, elapsed_s: float = 0.0) -> bool:
        """Store the transcript (once) and close the job; True when this call stored it."""
        return bool(self._complete(
            keys=[self.job_key(job.id), self.stream, self.transcripts.key(job.id), self.dead_key],
            args=[GROUP, job.message, self.transcripts.encode(record), time.time(), f"{elapsed_s:.3f}", worker,
                  DONE_TTL_S, job.id]))

    def fail(self, job: Job, worker: str, error: str, *, permanent: bool = False) -> str:
        """Report a failed attempt; the job's state after it: queued (retried now), dead, or lost."""
        return _text(self._fail(
            keys=[self.job_key(job.id), self.stream, self.dead_key],
            args=[GROUP, job.message, worker, error[:2000], self.max_attempts, "1" if permanent else "0",
                  time.time(), job.id, int(self.lease_s * 1000) + 1000]))

    def release(self, job: Job, worker: str) -> bool:
        """Give a job back unfinished (the worker is stopping): claimable at once, the attempt not counted."""
        return bool(self._release(keys=[self.job_key(job.id), self.stream],
                                  args=[GROUP, job.message, worker, int(self.lease_s * 1000) + 1000]))

    def status(self, job_id: str) -> dict[str, str]:
        return {_text(k): _text(v) for k, v in self.client.hgetall(self.job_key(job_id)).items()}

    def dead(self) -> list[str]:
        return [_text(v) for v in self.client.lrange(self.dead_key, 0, -1)]

    def open_jobs(self) -> int:
        """Entries in the stream: jobs waiting or being worked on."""
        return int(self.client.xlen(self.stream))

    def prune_workers(self, idle_s: float = 3600.0) -> int:
        """Forget consumers (workers long gone) that hold nothing and have not asked for work in `idle_s`."""
        pruned = 0
        consumers: list[dict[str, Any]] = self.client.xinfo_consumers(self.stream, GROUP)  # type: ignore[assignment]
        for consumer in consumers:
            if int(consumer["pending"]) == 0 and int(consumer["idle"]) > idle_s * 1000:
                self.client.xgroup_delconsumer(self.stream, GROUP, consumer["name"])
                pruned += 1
        return pruned
