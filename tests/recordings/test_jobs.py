"""The transcription job queue on the real Redis server (db 15, a prefix of its own per test): one job per
recording, leases that expire, attempts counted by the server, dead letters, a transcript stored once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from recordings.jobs import JobQueue
from recordings.transcripts import RecordingTranscript, TranscriptStore, json_path, recording_id
from speech.transcribe import Segment, Transcript
from tests.conftest import REDIS_URL, server_missing

pytestmark = pytest.mark.redis_server


MakeQueue = Callable[..., JobQueue]


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def client(request: pytest.FixtureRequest) -> Iterator[redis.Redis]:
    """Clients of both protocols: their replies to stream commands are shaped differently."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, protocol=request.param)
    try:
        client.ping()
    except redis.ConnectionError as error:
        server_missing("Redis", error)
    yield client
    client.close()


@pytest.fixture
def make_queue(client: redis.Redis) -> Iterator[MakeQueue]:
    """Queues under a prefix of this test's own (other tests share db 15), removed afterwards."""
    prefix = f"test:transcribe:{uuid.uuid4().hex[:8]}"

    def make(**options: Any) -> JobQueue:
        return JobQueue(client, prefix=f"{prefix}:q", transcripts=TranscriptStore(client, f"{prefix}:t"), **options)

    yield make
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def record(job_id: str, recording: str, text: str = "go forward ten meters") -> RecordingTranscript:
    transcript = Transcript("en", 3.0, (Segment("debtor", 0.5, 2.4, text), Segment("agent", 2.6, 2.9, "yes")))
    return RecordingTranscript(job_id, recording, transcript, {"engine": "test"})


def test_enqueueing_a_recording_twice_makes_one_job(make_queue: MakeQueue, tmp_path: Path) -> None:
    queue = make_queue()
    first = queue.enqueue(tmp_path / "call.wav", "en")
    assert queue.enqueue(tmp_path / ".." / tmp_path.name / "call.wav", "en") == first  # same file, other spelling
    assert first == recording_id(tmp_path / "call.wav")
    assert queue.open_jobs() == 1
    assert queue.status(first)["state"] == "queued"
    job = queue.claim("w1", block_s=0.1)
    assert job is not None and job.id == first and job.attempts == 1
    assert queue.enqueue(tmp_path / "call.wav", "en") == first and queue.open_jobs() == 1  # running: not again
    assert queue.complete(job, record(job.id, job.recording), "w1", 1.5)
    assert queue.enqueue(tmp_path / "call.wav", "en") == first  # done: not again
    assert queue.open_jobs() == 0 and queue.status(first)["state"] == "done"
    assert queue.claim("w1", block_s=0.1) is None


def test_a_lease_not_renewed_expires_and_the_job_goes_to_the_next_worker(make_queue: MakeQueue, tmp_path: Path) -> None:
    queue = make_queue(lease_s=0.3)
    job_id = queue.enqueue(tmp_path / "call.wav", "en")
    held = queue.claim("dead-worker", block_s=0.1)
    assert held is not None and queue.status(job_id)["state"] == "running"
    assert queue.claim("other", block_s=0.1) is None  # leased
    time.sleep(0.4)
    taken = queue.claim("other", block_s=0.1)
    assert taken is not None and taken.id == job_id and taken.attempts == 2
    assert queue.status(job_id)["worker"] == "other"
    assert not queue.heartbeat(held, "dead-worker")  # the old holder cannot take it back


def test_heartbeats_keep_the_lease_and_report_progress(make_queue: MakeQueue, tmp_path: Path) -> None:
    queue = make_queue(lease_s=0.3)
    job_id = queue.enqueue(tmp_path / "call.wav", "en")
    job = queue.claim("w1", block_s=0.1)
    assert job is not None
    for step in range(6):
        time.sleep(0.1)
        assert queue.heartbeat(job, "w1", progress=step / 10)
        assert queue.claim("w2", block_s=0.01) is None
    assert float(queue.status(job_id)["progress"]) == pytest.approx(0.5)


def test_the_transcript_is_stored_once_when_two_workers_finish(make_queue: MakeQueue, tmp_path: Path) -> None:
    queue = make_queue(lease_s=0.2)
    job_id = queue.enqueue(tmp_path / "call.wav", "en")
    slow = queue.claim("slow", block_s=0.1)
    time.sleep(0.3)
    fast = queue.claim("fast", block_s=0.1)
    assert slow is not None and fast is not None and slow.id == fast.id == job_id
    assert queue.complete(fast, record(job_id, fast.recording, "first"), "fast")
    assert not queue.complete(slow, record(job_id, slow.recording, "second"), "slow")
    stored = queue.transcripts.get(job_id)
    assert stored is not None and stored.transcript.text("debtor") == "first"
    assert queue.status(job_id)["worker"] == "fast" and queue.open_jobs() == 0


def test_a_job_that_outlives_its_attempts_goes_to_the_dead_letters(make_queue: MakeQueue, tmp_path: Path) -> None:
    queue = make_queue(lease_s=0.1, max_attempts=2)
    job_id = queue.enqueue(tmp_path / "poison.wav", "en")
    for attempt, worker in enumerate(("w1", "w2"), 1):
        job = queue.claim(worker, block_s=0.1)
        assert job is not None and job.attempts == attempt
        time.sleep(0.15)  # the worker dies: no heartbeat, no completion
    assert queue.claim("w3", block_s=0.1) is None
    status = queue.status(job_id)
    assert status["state"] == "dead" and status["attempts"] == "2"
    assert "gave up after 2 attempts" in status["error"] and "stopped" in status["error"]
    assert queue.dead() == [job_id] and queue.open_jobs() == 0
    assert queue.enqueue(tmp_path / "poison.wav", "en") == job_id  # queued afresh, on request
    assert queue.status(job_id)["state"] == "queued" and queue.status(job_id)["attempts"] == "0"
    assert queue.dead() == [] and queue.open_jobs() == 1


def test_a_worker_presumed_dead_that_finishes_after_the_burial_still_counts(make_queue: MakeQueue,
                                                                          tmp_path: Path) -> None:
    queue = make_queue(lease_s=0.1, max_attempts=1)
    job_id = queue.enqueue(tmp_path / "call.wav", "en")
    slow = queue.claim("slow", block_s=0.1)
    time.sleep(0.15)
    assert queue.claim("other", block_s=0.1) is None and queue.dead() == [job_id]  # buried
    assert slow is not None and queue.complete(slow, record(job_id, slow.recording), "slow")
    assert queue.status(job_id)["state"] == "done" and queue.dead() == []


def test_a_failed_attempt_is_retried_at_once_and_a_permanent_failure_is_dead(make_queue: MakeQueue,
                                                                             tmp_path: Path) -> None:
    queue = make_queue(lease_s=30, max_attempts=3)
    job_id = queue.enqueue(tmp_path / "call.wav", "en")
    job = queue.claim("w1", block_s=0.1)
    assert job is not None
    assert queue.fail(job, "w1", "RuntimeError: out of memory") == "queued"
    assert queue.status(job_id)["error"] == "RuntimeError: out of memory"
    again = queue.claim("w2", block_s=0.1)  # no waiting for the 30 s lease
    assert again is not None and again.attempts == 2
    assert queue.fail(job, "w1", "late") == "lost"  # w1 no longer holds it
    assert queue.fail(again, "w2", "ValueError: not a PCM WAV file", permanent=True) == "dead"
    assert queue.status(job_id)["state"] == "dead" and queue.dead() == [job_id]


def test_a_released_job_is_claimable_at_once_and_the_attempt_does_not_count(make_queue: MakeQueue,
                                                                           tmp_path: Path) -> None:
    queue = make_queue(lease_s=30, max_attempts=1)
    job_id = queue.enqueue(tmp_path / "call.wav", "en")
    for _ in range(3):  # stopped three times: still never more than its one attempt
        job = queue.claim("w1", block_s=0.1)
        assert job is not None and job.attempts == 1
        assert queue.release(job, "w1")
        assert queue.status(job_id)["state"] == "queued" and queue.status(job_id)["attempts"] == "0"
    job = queue.claim("w2", block_s=0.1)
    assert job is not None and job.attempts == 1
    assert not queue.release(job, "w1")  # only the holder gives it back


def test_the_last_attempt_failing_is_dead(make_queue: MakeQueue, tmp_path: Path) -> None:
    queue = make_queue(max_attempts=1)
    job_id = queue.enqueue(tmp_path / "call.wav", "en")
    job = queue.claim("w1", block_s=0.1)
    assert job is not None
    assert queue.fail(job, "w1", "RuntimeError: boom") == "dead"
    assert queue.status(job_id)["error"] == "RuntimeError: boom"


def test_a_recording_with_a_stored_transcript_is_done_without_a_job(make_queue: MakeQueue, tmp_path: Path) -> None:
    queue = make_queue()
    rid = recording_id(tmp_path / "old.wav")
    assert queue.transcripts.put_once(record(rid, str(tmp_path / "old.wav")))
    assert not queue.transcripts.put_once(record(rid, str(tmp_path / "old.wav"), "other"))
    assert queue.enqueue(tmp_path / "old.wav", "en") == rid
    assert queue.status(rid)["state"] == "done" and queue.open_jobs() == 0


def test_jobs_survive_a_deleted_stream(make_queue: MakeQueue, tmp_path: Path) -> None:
    queue = make_queue()
    queue.client.delete(queue.stream)  # e.g. FLUSHDB under a running worker: the group goes too
    assert queue.claim("w1", block_s=0.05) is None
    queue.enqueue(tmp_path / "call.wav", "en", recording_id="rec-1")
    job = queue.claim("w1", block_s=0.1)
    assert job is not None and job.id == "rec-1"


def test_idle_workers_are_forgotten(make_queue: MakeQueue, tmp_path: Path) -> None:
    queue = make_queue()
    queue.enqueue(tmp_path / "a.wav", "en")
    queue.enqueue(tmp_path / "b.wav", "en")
    done, busy = queue.claim("gone", block_s=0.1), queue.claim("busy", block_s=0.1)
    assert done is not None and busy is not None
    queue.complete(done, record(done.id, done.recording), "gone")
    time.sleep(0.05)
    assert queue.prune_workers(idle_s=0.01) == 1  # "busy" holds a job: kept
    assert [c["name"] for c in queue.client.xinfo_consumers(queue.stream, "workers")] in (["busy"], [b"busy"])


def test_a_transcript_round_trips_through_json_and_lands_beside_the_recording(tmp_path: Path) -> None:
    original = record("rec-1", str(tmp_path / "call.wav"))
    assert RecordingTranscript.from_json(original.to_json()) == original
    written = original.write_json()
    assert written == json_path(tmp_path / "call.wav") == tmp_path / "call.transcript.json"
    assert RecordingTranscript.from_json(written.read_text()) == original
    assert [p.name for p in tmp_path.iterdir()] == ["call.transcript.json"]  # no temporary file left
