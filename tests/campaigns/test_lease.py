"""Campaign leases against a real case store (issue 14, probe 4): one runner per campaign, taken over only
once its runner is gone, and recovery that closes only the in-flight attempts of runners that are gone."""

import socket
import subprocess
import sys
from datetime import timedelta

import pytest

from campaigns.lease import LEASE_S, CampaignLease, LeaseHeld
from campaigns.recovery import close_interrupted
from campaigns.service import create_campaign
from cases import Store
from cases.models import Attempt, AttemptOutcome
from tests.campaigns.test_campaigns import NOW, seed, spec

ELSEWHERE = "another-host:4242:"  # a runner on another machine: only its lease's expiry says it is gone


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def campaigns(store: Store, *names: str) -> list[int]:
    with store.session() as session:
        return [create_campaign(session, spec(name=name), actor="t").id for name in names]


def test_probe_4_a_campaign_lease_is_one_runners_until_it_lapses(store: Store) -> None:
    (campaign,) = campaigns(store, "one")
    clock = Clock()
    first = CampaignLease(store, campaign, ELSEWHERE + "a", clock=clock)
    second = CampaignLease(store, campaign, ELSEWHERE + "b", clock=clock)
    assert first.try_acquire() is None
    assert second.try_acquire() == first.owner
    with pytest.raises(LeaseHeld, match="another-host"):
        second.acquire(wait_s=0.2, poll_s=0.05)
    clock.now += timedelta(seconds=LEASE_S - 1)
    assert first.renew() and second.try_acquire() == first.owner  # renewed: still the first's
    clock.now += timedelta(seconds=LEASE_S + 1)
    assert second.try_acquire() is None  # lapsed: taken over
    assert not first.renew()  # and the first runner learns it is no longer the campaign's


def test_probe_4_a_dead_process_on_this_host_loses_its_lease_at_once(store: Store) -> None:
    (campaign,) = campaigns(store, "one")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    CampaignLease(store, campaign, f"{socket.gethostname()}:{dead.stdout.strip()}:x").acquire()
    assert CampaignLease(store, campaign, ELSEWHERE + "b").try_acquire() is None


def test_probe_4_recovery_closes_only_the_attempts_of_runners_that_are_gone(store: Store) -> None:
    account = seed(store)["big"]
    live, lapsed, mine = campaigns(store, "live", "lapsed", "mine")
    clock = Clock()
    with store.session() as session:  # one call in flight for each campaign
        rows = {campaign: Attempt(account_id=account, number_e164="+8613800000002", campaign_id=campaign,
                                  started_at=NOW, outcome=AttemptOutcome.IN_FLIGHT) for campaign in (live, lapsed, mine)}
        session.add_all(rows.values())
        session.flush()
        claimed = {campaign: row.id for campaign, row in rows.items()}
    CampaignLease(store, live, ELSEWHERE + "live", clock=clock).acquire()
    CampaignLease(store, lapsed, ELSEWHERE + "lapsed", lease_s=5, clock=clock).acquire()
    clock.now += timedelta(seconds=10)
    CampaignLease(store, mine, ELSEWHERE + "me", clock=clock).acquire()  # this run's, a dead run's attempts
    closed = close_interrupted(store, NOW + timedelta(minutes=1), lease=(mine, ELSEWHERE + "me"),
                               wall_now=clock.now)
    assert sorted(closed) == sorted([claimed[lapsed], claimed[mine]])
    with store.session() as session:
        assert session.get(Attempt, claimed[live]).outcome is AttemptOutcome.IN_FLIGHT  # type: ignore[union-attr]
