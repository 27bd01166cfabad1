"""kill -9 in the middle of a campaign: the attempts in flight are closed as interrupted at the next start,
no case is dialled again against its rest time or the gates, and the campaign resumes with the others."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from campaigns.service import CampaignSpec, change_status, create_campaign
from cases import Store, migrate
from cases.models import Attempt, AttemptOutcome
from cases.segments import Segment
from dialer.pacing.modes import DialMode
from tests.campaigns.test_campaign_run import NUMBERS, seed

AT = "2026-11-30T20:00:00+00:00"  # noon in California


def dunline(data: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DUNLINE_DATA_DIR": str(data), "DUNLINE_USER": "manager"}
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
