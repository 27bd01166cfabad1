"""Worker processes with the real model on the real Redis server: a worker killed (SIGKILL) mid-job loses
nothing; an unreadable recording is dead at once; a pool stops on request."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis

from audio.wav import read_pcm, write_pcm
from recordings.jobs import Job, JobQueue
from recordings.transcripts import TranscriptStore
from recordings.worker import MAX_RESTARTS, NICE, RESTART_WINDOW_S, WorkerPool, run_worker
from speech.models import find_model
from speech.wer import normalise
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis_server

VOICES = Path(__file__).resolve().parents[2] / "dialer" / "simulate" / "voices"
RATE = 8000
LEASE_S = 2.0


@pytest.fixture
def prefixes(redis_prefix: str) -> tuple[str, str]:
    find_model("whisper", "en")  # ModelNotFound says where it looked: the test extras carry the model
    return f"{redis_prefix}:q", f"{redis_prefix}:t"


def queue_for(prefixes: tuple[str, str], **options: Any) -> JobQueue:
    client = redis.Redis.from_url(REDIS_URL)
    return JobQueue(client, prefix=prefixes[0], transcripts=TranscriptStore(client, prefixes[1]), **options)


def long_call(path: Path, turns: int = 8) -> Path:
    """Debtor and agent voices taking turns on their sides: about 8 s a turn pair."""
    debtor, agent = read_pcm(VOICES / "debtor-greeting.wav"), read_pcm(VOICES / "agent-speech.wav")
    step = len(debtor) + len(agent) + 2 * RATE
    frames = np.zeros((turns * step + RATE, 2), dtype=np.int16)
    for turn in range(turns):
        at = turn * step + RATE // 2
        frames[at:at + len(debtor), 0] = debtor
        at += len(debtor) + RATE
        frames[at:at + len(agent), 1] = agent
    write_pcm(path, frames, RATE)
    return path


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def test_a_worker_killed_mid_job_loses_nothing(prefixes: tuple[str, str], tmp_path: Path) -> None:
    queue = queue_for(prefixes, lease_s=LEASE_S)
    job_id = queue.enqueue(long_call(tmp_path / "call.wav"), "en")
    pool = WorkerPool(REDIS_URL, 1, prefix=prefixes[0], transcript_prefix=prefixes[1], lease_s=LEASE_S,
                      languages=("en",))
    with pool:
        wait_for(lambda: queue.status(job_id)["state"] == "running", 120, "the first worker to take the job")
        victim = pool.processes[0]
        assert victim.pid is not None
        time.sleep(0.3)  # transcribing now (the model was loaded before the job was claimed)
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(10)
        assert victim.exitcode == -signal.SIGKILL
        assert queue.status(job_id)["state"] == "running"  # as the dead worker left it
        killed_at = time.time()
        assert pool.replace_dead() == 1
        wait_for(lambda: queue.status(job_id)["state"] == "done", 180, "the job to be done by the second worker")
        # taken over only once the lease ran out (counted from the last heartbeat, at most lease/3 before)
        assert float(queue.status(job_id)["started_at"]) - killed_at >= LEASE_S * 2 / 3 - 0.1
    assert pool.processes == []
    status = queue.status(job_id)
    assert status["attempts"] == "2" and status["worker"] != ""
    assert queue.open_jobs() == 0 and queue.dead() == []
    stored = queue.transcripts.get(job_id)
    assert stored is not None and stored.recording == str(tmp_path / "call.wav")
    counts = stored.transcript.counts()
    assert counts["debtor"] >= 4 and counts["agent"] >= 4  # turns 2 s apart on each side: one segment each
    assert normalise(stored.transcript.text("debtor")).count("forward") >= 6
    # "... of clubs" three times a turn; tiny.en hears "clubs" as "close" or "clothes" when it likes, "of" it keeps
    assert normalise(stored.transcript.text("agent")).count("of") >= 12


def test_a_worker_that_keeps_dying_is_held_back_within_the_window_then_replaced_again(
        prefixes: tuple[str, str]) -> None:
    """A long-lived server must not give up on a slot for good, nor restart a crashing worker in a tight loop."""
    pool = WorkerPool(REDIS_URL, 1, prefix=prefixes[0], transcript_prefix=prefixes[1], languages=("en",))

    def kill_the_worker() -> None:
        victim = pool.processes[0]
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(10)

    with pool:
        for n in range(MAX_RESTARTS):
            kill_the_worker()
            assert pool.replace_dead(now=1000.0 + n) == 1
        kill_the_worker()
        assert pool.replace_dead(now=1000.0 + MAX_RESTARTS) == 0 and pool.alive() == 0  # held back
        assert pool.replace_dead(now=1000.0 + RESTART_WINDOW_S + 0.5) == 1  # the first restart left the window
        assert pool.alive() == 1


def test_pool_workers_run_below_their_starters_priority(prefixes: tuple[str, str]) -> None:
    """Transcription is batch work: on a serving node it must leave the cores to the media clock first."""
    pool = WorkerPool(REDIS_URL, 1, prefix=prefixes[0], transcript_prefix=prefixes[1], languages=("en",))
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    with pool:
        pid = pool.processes[0].pid
        assert pid is not None
        for _ in range(300):  # the spawned worker lowers its own priority once it has started
            if os.getpriority(os.PRIO_PROCESS, pid) != ours:
                break
            time.sleep(0.1)
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(ours + NICE, 19)


def test_a_stopped_pool_gives_its_job_back_unfinished(prefixes: tuple[str, str], tmp_path: Path) -> None:
    queue = queue_for(prefixes, lease_s=60)
    job_id = queue.enqueue(long_call(tmp_path / "call.wav", turns=20), "en")  # about 2.5 minutes of call
    pool = WorkerPool(REDIS_URL, 1, prefix=prefixes[0], transcript_prefix=prefixes[1], lease_s=60,
                      languages=("en",))
    pool.start()
    try:
        wait_for(lambda: float(queue.status(job_id).get("progress") or 0) > 0, 120, "the job to be under way")
    finally:
        stopped_at = time.monotonic()
        pool.stop(grace_s=30)
    assert time.monotonic() - stopped_at < 15  # given back between two segments, not after the whole call
    status = queue.status(job_id)
    assert status["state"] == "queued" and status["attempts"] == "0" and queue.transcripts.get(job_id) is None
    job = queue.claim("next", block_s=0.1)  # at once, not after the 60 s lease
    assert job is not None and job.id == job_id and job.attempts == 1


def test_a_worker_whose_job_was_taken_over_drops_it(prefixes: tuple[str, str], tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """A worker presumed dead (its lease lapsed: a long pause, a partition) learns at its next heartbeat that
    the job is another's, and stops working on it instead of finishing it for nothing."""
    queue = queue_for(prefixes, lease_s=LEASE_S)
    job_id = queue.enqueue(long_call(tmp_path / "call.wav", turns=20), "en")
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(REDIS_URL,), kwargs={
        "prefix": prefixes[0], "transcript_prefix": prefixes[1], "lease_s": LEASE_S, "stop": stop, "block_s": 0.2,
        "languages": ("en",)})
    caplog.set_level(logging.INFO, logger="recordings.worker")
    worker.start()
    try:
        wait_for(lambda: float(queue.status(job_id).get("progress") or 0) > 0, 120, "the job to be under way")
        status = queue.status(job_id)
        queue.client.xclaim(queue.stream, "workers", "the-other-worker", 0, [status["message"]])  # a takeover
        taken = Job(job_id, status["recording"], "en", 2, status["message"])

        def dropped() -> bool:
            assert queue.heartbeat(taken, "the-other-worker")  # the new holder keeps its lease
            return "taken over" in caplog.text

        wait_for(dropped, 60, "the worker to drop the job")
    finally:
        stop.set()
        worker.join(60)
    assert queue.transcripts.get(job_id) is None  # left to the worker that holds it now
    assert queue.status(job_id)["state"] == "running"


def test_an_unreadable_recording_is_dead_at_once_and_the_worker_carries_on(prefixes: tuple[str, str],
                                                                          tmp_path: Path) -> None:
    queue = queue_for(prefixes, lease_s=LEASE_S)
    (tmp_path / "junk.wav").write_bytes(b"RIFF? no")
    bad = queue.enqueue(tmp_path / "junk.wav", "en")
    good = queue.enqueue(long_call(tmp_path / "call.wav", turns=1), "en")
    stop = threading.Event()
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(run_worker(
        REDIS_URL, prefix=prefixes[0], transcript_prefix=prefixes[1], lease_s=LEASE_S, stop=stop, block_s=0.2)))
    worker.start()
    try:
        wait_for(lambda: queue.status(good)["state"] == "done", 120, "the readable recording to be transcribed")
    finally:
        stop.set()
        worker.join(30)
    assert done == [1]
    status = queue.status(bad)
    assert status["state"] == "dead" and status["attempts"] == "1"
    assert status["error"].startswith("ValueError:") and "not a PCM WAV" in status["error"]
    assert queue.dead() == [bad]
