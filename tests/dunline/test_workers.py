"""The after-call path across processes: a call's recording queued by `AfterCall` is transcribed by a worker
process the `WorkerSupervisor` started (real Redis, real whisper tiny.en, a real SQLite file), screened in the
call's context, its findings saved with the agent who took the call and a cease request held; a worker killed
mid-job, or a server killed before queueing, loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import redis
from sqlalchemy import select

from audio.wav import RATE, write_pcm
from campaigns.aftercall import AfterCall, aftercall_job_id
from cases import Store
from cases.models import AfterCallState, Attempt, AuditEntry, Hold, HoldKind
from compliance.screening import Category, ScreeningFinding
from dunline.installation import master_keys
from dunline.settings import Settings
from dunline.workers import WorkerSupervisor
from recordings.jobs import JobQueue
from recordings.transcripts import TranscriptStore, transcript_file
from speech.models import find_model
from tests.campaigns.test_aftercall import seed_call
from tests.compliance.test_screening_recorded_call import record_call, speak
from tests.conftest import REDIS_URL, require, server_missing, share_keys

pytestmark = pytest.mark.redis_server

LEASE_S = 2.0


@pytest.fixture
def prefixes(redis_prefix: str) -> dict[str, str]:
    require("espeak-ng")
    find_model("whisper", "en")
    return {"prefix": f"{redis_prefix}:q", "transcript_prefix": f"{redis_prefix}:t"}


def settings_for(store: Store, tmp_path: Path, workers: int = 1) -> Settings:
    share_keys(store, tmp_path / "var")
    return Settings(data_dir=tmp_path / "var", database_url=store.url, transcription_workers=workers)


def queue_for(prefixes: dict[str, str]) -> JobQueue:
    client = redis.Redis.from_url(REDIS_URL)
    return JobQueue(client, prefix=prefixes["prefix"], lease_s=LEASE_S,
                    transcripts=TranscriptStore(client, prefixes["transcript_prefix"]))


# Ordinary talk after the threat, every sentence its own: Whisper re-decodes a window whose text repeats (the
# compression-ratio guard) by sampling, so a repetitive padding made the threat's own words vary from one
# transcription of the call to the next (the killed worker's replacement heard "please will come", once no threat).
TALK = [
    (1, "Let me check the details of your account before we go on."),
    (0, "I changed jobs last spring and my hours were cut."),
    (1, "I understand. We can look at a plan that fits your budget."),
    (0, "My wife handles the bills, she is travelling this week."),
    (1, "The balance shown here includes the fees from October."),
    (0, "Can you send me a letter with the figures by post?"),
    (1, "Yes, the statement will go to the address we have on file."),
    (0, "I moved house in August, the new street is near the river."),
    (1, "Thank you. I will note the new address and the best time to reach you."),
    (0, "Mornings are better, before nine, when the children are at school."),
]


def threatening_call(path: Path, padded: bool = False) -> Path:
    """The agent threatens arrest, the debtor says stop calling (tests/compliance's recorded call), then, if
    `padded`, about 50 s of ordinary talk (TALK) so that a worker can be killed while it is still at work."""
    record_call(path)
    if padded:
        with wave.open(str(path)) as call:
            head = np.frombuffer(call.readframes(call.getnframes()), np.int16).reshape(-1, 2)
        turns = []
        for channel, text in TALK:
            said = speak(text, "en-us" if channel else "en-us+f3", path.parent)
            turn = np.zeros((len(said) + RATE, 2), np.float32)
            turn[:len(said), channel] = said
            turns.append(turn)
        tail = np.clip(np.concatenate(turns), -32768, 32767).astype(np.int16)
        write_pcm(path, np.concatenate([head, tail]), RATE)
    return path


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def aftercall_state(store: Store, attempt_id: int) -> AfterCallState | None:
    with store.reading() as session:
        attempt = session.get(Attempt, attempt_id)
        return attempt.aftercall if attempt else None


def assert_screened_once(store: Store, attempt_id: int, agent_id: int) -> None:
    with store.reading() as session:
        screenings = session.scalars(select(AuditEntry).where(AuditEntry.action == "screening.recorded")).all()
        assert [entry.entity_id for entry in screenings] == [str(attempt_id)]  # screened once
        findings = session.scalars(select(ScreeningFinding).where(ScreeningFinding.attempt_id == attempt_id)).all()
        by_category = {f.category: f for f in findings}
        threat = by_category[Category.FALSE_LEGAL_THREAT]
        assert (threat.speaker, threat.agent_id) == ("agent", agent_id) and "police" in threat.excerpt.lower()
        cease = by_category[Category.CEASE_REQUEST]
        assert cease.speaker == "debtor" and cease.agent_id == agent_id and cease.hold_id is not None
        hold = session.get(Hold, cease.hold_id)
        assert hold is not None and hold.kind is HoldKind.CEASE and hold.source == "screening"


def test_item_4_a_call_queued_by_after_call_is_transcribed_screened_and_held_by_a_worker_process(
        sqlite_store: Store, prefixes: dict[str, str], tmp_path: Path) -> None:
    recording = threatening_call(tmp_path / "call.wav")
    attempt_id, agent_id = seed_call(sqlite_store, recording=recording)
    queue = queue_for(prefixes)
    assert asyncio.run(AfterCall(sqlite_store, queue)(attempt_id, recording)) == aftercall_job_id(attempt_id)
    supervisor = WorkerSupervisor(settings_for(sqlite_store, tmp_path), redis_url=REDIS_URL, lease_s=LEASE_S,
                                  **prefixes)
    supervisor.start()
    try:
        wait_for(lambda: aftercall_state(sqlite_store, attempt_id) is AfterCallState.DONE, 120,
                 "the worker to screen the call")
        assert supervisor.alive() == 1
    finally:
        supervisor.stop()
    assert supervisor.alive() == 0
    assert_screened_once(sqlite_store, attempt_id, agent_id)
    assert queue.status(aftercall_job_id(attempt_id))["state"] == "done" and queue.open_jobs() == 0
    sealed_copy = queue.client.get(queue.transcripts.key(aftercall_job_id(attempt_id)))
    assert sealed_copy is not None and b"police" not in sealed_copy  # the copy of record is sealed too
    stored = TranscriptStore(queue.client, prefixes["transcript_prefix"], master_keys(tmp_path / "var")).get(
        aftercall_job_id(attempt_id))
    assert stored is not None and transcript_file(recording) == tmp_path / "call.transcript.json.sealed"


def test_item_4_a_worker_killed_mid_job_is_replaced_and_the_call_screened_once(
        sqlite_store: Store, prefixes: dict[str, str], tmp_path: Path) -> None:
    """The server died after closing the call, before queueing its job (the row says queued, the stream has
    nothing): the supervisor's start queues it; the worker taking it is killed mid-job; its replacement
    takes the job over when the lease runs out and the call is screened once."""
    recording = threatening_call(tmp_path / "call.wav", padded=True)
    attempt_id, agent_id = seed_call(sqlite_store, recording=recording)
    queue = queue_for(prefixes)
    job_id = aftercall_job_id(attempt_id)
    supervisor = WorkerSupervisor(settings_for(sqlite_store, tmp_path), redis_url=REDIS_URL, lease_s=LEASE_S,
                                  check_s=0.2, **prefixes)
    assert supervisor.start() == [attempt_id]
    try:
        wait_for(lambda: queue.status(job_id).get("state") == "running", 120, "a worker to take the job")
        victim = supervisor.pool.processes[0]
        assert victim.pid is not None
        time.sleep(0.3)
        os.kill(victim.pid, signal.SIGKILL)
        wait_for(lambda: supervisor.pool.processes[0] is not victim and supervisor.alive() == 1, 10,
                 "the supervisor to replace the killed worker")
        assert aftercall_state(sqlite_store, attempt_id) is AfterCallState.QUEUED
        wait_for(lambda: aftercall_state(sqlite_store, attempt_id) is AfterCallState.DONE, 180,
                 "the replacement to finish the job")
    finally:
        supervisor.stop()
    assert queue.status(job_id)["attempts"] == "2" and queue.open_jobs() == 0 and queue.dead() == []
    assert_screened_once(sqlite_store, attempt_id, agent_id)


def test_item_4_no_workers_configured_starts_none_but_queues_the_backlog(
        sqlite_store: Store, prefixes: dict[str, str], tmp_path: Path) -> None:
    recording = tmp_path / "call.wav"
    write_pcm(recording, np.zeros((800, 2), np.int16))
    attempt_id, _ = seed_call(sqlite_store, recording=recording)
    supervisor = WorkerSupervisor(settings_for(sqlite_store, tmp_path, workers=0), redis_url=REDIS_URL, **prefixes)
    assert supervisor.start() == [attempt_id]
    assert supervisor.alive() == 0 and supervisor.pool.processes == []
    supervisor.stop()
    assert queue_for(prefixes).status(aftercall_job_id(attempt_id))["state"] == "queued"


def test_item_4_dunline_worker_screens_the_backlog_in_the_foreground_until_interrupted(
        sqlite_store: Store, tmp_path: Path) -> None:
    """`dunline worker` on another machine: the settings name Redis and the case store; its default stream is
    the server's, so this test gives it a Redis database of its own."""
    require("espeak-ng")
    url = f"{REDIS_URL.rsplit('/', 1)[0]}/14"  # the test server's, another database
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError as error:
        server_missing("Redis", error)
    client.flushdb()
    recording = threatening_call(tmp_path / "call.wav")
    attempt_id, agent_id = seed_call(sqlite_store, recording=recording)
    share_keys(sqlite_store, tmp_path / "var")
    env = {**os.environ, "DUNLINE_DATA_DIR": str(tmp_path / "var"), "DUNLINE_DATABASE_URL": sqlite_store.url,
           "DUNLINE_REDIS_URL": url}
    dunline = Path(sys.executable).with_name("dunline")
    process = subprocess.Popen([str(dunline), "worker", "--count", "1"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: aftercall_state(sqlite_store, attempt_id) is AfterCallState.DONE, 120,
                 "`dunline worker` to screen the call")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
        client.flushdb()
        client.close()
    assert process.returncode == 0, output
    assert "1 after-call job(s) from the case store queued" in output and "workers stopped" in output
    assert_screened_once(sqlite_store, attempt_id, agent_id)
