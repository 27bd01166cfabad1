"""kill -9 in the middle of a campaign: the attempts in flight are closed as interrupted at the next start,
no case is dialled again against its rest time or the gates, and the campaign resumes with the others."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from campaigns.attempts import queue_aftercalls
from campaigns.service import CampaignSpec, change_status, create_campaign
from cases import Store, migrate
from cases.models import AfterCallState, Attempt, AttemptOutcome, AuditEntry
from cases.segments import Segment
from crypto import KEY_FILE, ensure_key_file, is_sealed
from dialer.pacing.modes import DialMode
from recordings.storage import plain_path, recording_exists
from tests.campaigns.test_campaign_run import NUMBERS, seed
from tests.conftest import REDIS_URL

AT = "2026-11-30T20:00:00+00:00"  # noon in California


def dunline(data: Path, *args: str) -> subprocess.Popen[str]:
    """`dunline ARGS` on the installation in `data`, with the master key `dunline db upgrade` writes (the server
    seals recordings and refuses to start without one)."""
    ensure_key_file(data / KEY_FILE)
    env = {**os.environ, "DUNLINE_DATA_DIR": str(data), "DUNLINE_USER": "manager", "DUNLINE_REDIS_URL": REDIS_URL}
    return subprocess.Popen([str(Path(sys.executable).parent / "dunline"), *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def attempts(store: Store) -> list[Attempt]:
    with store.session() as session:
        rows = session.scalars(select(Attempt).order_by(Attempt.id)).all()
        session.expunge_all()
        return list(rows)


def test_a_killed_campaign_loses_no_attempt_and_resumes(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'dunline.db'}")
    migrate.upgrade(store.engine)
    seed(store)
    with store.session() as session:
        campaign = create_campaign(session, CampaignSpec("crash", Segment(jurisdictions=("US",)),
                                                         DialMode.PROGRESSIVE, agent_group="collectors"), actor="t")
        change_status(session, campaign.id, "start", actor="t")
    run = ["campaign", "run", "crash", "--agents", "2", "--rude-agents", "0", "--no-transcribe", "--at", AT]
    first = dunline(tmp_path, *run, "--seconds", "60")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = attempts(store)
        if any(a.outcome is AttemptOutcome.IN_FLIGHT for a in now) and len(now) >= 2:
            break
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)  # the whole process group: as a crash of the server would
    first.wait()
    before = attempts(store)
    in_flight = {a.id: a.account_id for a in before if a.outcome is AttemptOutcome.IN_FLIGHT}
    assert in_flight, ([(a.id, a.outcome) for a in before], first.stdout.read() if first.stdout else "")

    second = dunline(tmp_path, *run, "--seconds", "10")
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output
    assert f"closed {len(in_flight)} attempt(s) left in flight" in output
    after = attempts(store)
    by_id = {a.id: a for a in after}
    for attempt_id in in_flight:
        assert by_id[attempt_id].outcome is AttemptOutcome.INTERRUPTED and by_id[attempt_id].ended_at is not None
    assert not any(a.outcome is AttemptOutcome.IN_FLIGHT for a in after)  # nothing left hanging
    new = [a for a in after if a.id not in {b.id for b in before}]
    assert new, "the campaign resumed"
    assert not {a.account_id for a in new} & set(in_flight.values())  # interrupted cases rest before a retry
    assert all(a.receipt.get("verdict") == "allowed" for a in after)
    assert len({a.number_e164 for a in after}) <= len(NUMBERS)


def _campaign(store: Store, name: str) -> int:
    with store.session() as session:
        campaign = create_campaign(session, CampaignSpec(name, Segment(jurisdictions=("US",)), DialMode.PROGRESSIVE,
                                                         agent_group="collectors"), actor="t")
        change_status(session, campaign.id, "start", actor="t")
        return campaign.id


def _wait_for(condition: Callable[[], bool], seconds: float, what: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.poll() is None, (what, process.stdout.read() if process.stdout else "")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _kill(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_probe_3_a_killed_campaigns_recordings_are_linked_and_get_their_after_call_jobs(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'dunline.db'}")
    migrate.upgrade(store.engine)
    seed(store)
    _campaign(store, "crash")
    recordings = tmp_path / "recordings"
    run = ["campaign", "run", "crash", "--agents", "2", "--rude-agents", "0", "--no-transcribe", "--at", AT]
    first = dunline(tmp_path, *run, "--seconds", "60")

    def a_live_call_is_recording() -> bool:
        closed = {a.recording_path for a in attempts(store) if a.outcome is not AttemptOutcome.IN_FLIGHT}
        live = [a for a in attempts(store) if a.outcome is AttemptOutcome.IN_FLIGHT]
        return bool(live) and any(str(wav) not in closed and str(plain_path(wav)) not in closed
                                  for wav in recordings.rglob("*.wav*"))
    try:
        _wait_for(a_live_call_is_recording, 60, "a call in progress with its recording on disk", first)
    finally:
        _kill(first)
    on_disk = list(recordings.rglob("*.wav*"))
    assert on_disk and all(wav.name.endswith(".wav.sealed") and is_sealed(wav) for wav in on_disk), on_disk
    linked = {a.recording_path for a in attempts(store)}  # before the call: the plain name
    orphans = [wav for wav in on_disk if str(wav) not in linked and str(plain_path(wav)) not in linked]
    assert not orphans, f"recordings linked to no attempt: {orphans}"

    second = dunline(tmp_path, *run, "--seconds", "3")
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output
    after = attempts(store)
    ended = [a for a in after if a.outcome is not AttemptOutcome.IN_FLIGHT]
    recorded = [a for a in ended if a.recording_path]
    assert recorded and any(a.outcome is AttemptOutcome.INTERRUPTED for a in recorded), \
        [(a.id, a.outcome, a.recording_path) for a in after]
    for attempt in recorded:  # every recording of a closed or interrupted attempt has its after-call job
        assert recording_exists(Path(attempt.recording_path)), attempt.id
        assert attempt.aftercall is AfterCallState.QUEUED, attempt.id
    with store.session() as session:
        assert queue_aftercalls(session) == []  # a second sweep queues nothing twice


def test_probe_4_recovery_leaves_another_campaigns_live_calls_alone(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'dunline.db'}")
    migrate.upgrade(store.engine)
    seed(store)
    first_id = _campaign(store, "first")
    _campaign(store, "second")
    common = ["--agents", "2", "--rude-agents", "0", "--no-transcribe", "--at", AT]
    # Longer than the test can take on a slow machine: it must still be calling when the second run has recovered.
    first = dunline(tmp_path, "campaign", "run", "first", *common, "--seconds", "600")
    try:
        _wait_for(lambda: any(a.outcome is AttemptOutcome.IN_FLIGHT and a.campaign_id == first_id
                              for a in attempts(store)), 60, "the first campaign's live calls", first)
        live = {a.id for a in attempts(store) if a.outcome is AttemptOutcome.IN_FLIGHT}
        second = dunline(tmp_path, "campaign", "run", "second", *common, "--seconds", "3")
        output, _ = second.communicate(timeout=120)
        assert second.returncode == 0, output
        assert first.poll() is None
    finally:
        _kill(first)
    with store.session() as session:
        interrupted = session.scalars(select(AuditEntry.entity_id).where(
            AuditEntry.action == "attempt.interrupted")).all()
    assert not {int(i) for i in interrupted} & live, output
    assert not any(a.outcome is AttemptOutcome.INTERRUPTED for a in attempts(store) if a.id in live)
