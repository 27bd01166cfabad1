"""Who runs a campaign: a lease in the case store, one runner per campaign, renewed while the runner lives.

A campaign's in-flight attempts belong to the runner holding its lease, so recovery (campaigns/recovery.py)
closes them only once that runner is gone: its lease lapsed, or it was a process on this host that no
longer exists (a restart after `kill -9` need not wait out the lease). A live lease held by another runner
is waited for up to one lease period, then refused: two runners never dial the same campaign.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases import Store
from cases.models import RunnerLease, utcnow

LEASE_S = 30.0  # a runner that has not renewed for this long is presumed dead
RENEW_S = LEASE_S / 6  # renewed this often, so a short database outage does not cost the lease


class LeaseHeld(RuntimeError):
    """Another live runner holds the campaign."""


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_gone(owner: str, now: datetime, expires_at: datetime) -> bool:
    """The lease lapsed, or its owner was a process on this host that has exited."""
    if expires_at <= now:
        return True
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


@dataclass
class CampaignLease:
    """A campaign's lease as one runner sees it. Times are the real wall clock (`clock`), never a
    campaign's simulated one: leases are compared across processes."""

    store: Store
    campaign_id: int
    owner: str
    lease_s: float = LEASE_S
    clock: Callable[[], datetime] = utcnow

    def try_acquire(self) -> str | None:
        """Take the lease when it is free or its owner is gone; None, else the live holder's owner id."""
        now = self.clock()
        with self.store.session() as session:
            lease = session.get(RunnerLease, self.campaign_id, with_for_update=True)
            if lease is not None and lease.owner != self.owner and not owner_gone(lease.owner, now, lease.expires_at):
                return lease.owner
            if lease is None:
                lease = RunnerLease(campaign_id=self.campaign_id, owner=self.owner, expires_at=now)
                session.add(lease)
            lease.owner, lease.acquired_at = self.owner, now
            lease.expires_at = now + timedelta(seconds=self.lease_s)
            return None

    def acquire(self, wait_s: float | None = None, poll_s: float = 0.5) -> None:
        """Take the lease, waiting up to `wait_s` (default: one lease period) for a holder to go;
        LeaseHeld if it does not."""
        deadline = time.monotonic() + (self.lease_s if wait_s is None else wait_s)
        while (holder := self.try_acquire()) is not None:
            if time.monotonic() >= deadline:
                raise LeaseHeld(f"campaign {self.campaign_id} is being run by {holder}")
            time.sleep(poll_s)

    def renew(self) -> bool:
        """Extend the lease; False when it is no longer ours (another runner took it after it lapsed)."""
        now = self.clock()
        with self.store.session() as session:
            lease = session.get(RunnerLease, self.campaign_id, with_for_update=True)
            if lease is None or lease.owner != self.owner:
                return False
            lease.expires_at = now + timedelta(seconds=self.lease_s)
            return True

    def release(self) -> None:
        with self.store.session() as session:
            session.execute(delete(RunnerLease).where(RunnerLease.campaign_id == self.campaign_id,
                                                      RunnerLease.owner == self.owner))


def live_campaigns(session: Session, now: datetime, *, but: int | None = None) -> set[int]:
    """Campaigns whose runner is alive (other than campaign `but`, whose lease the caller holds)."""
    leases = session.execute(select(RunnerLease.campaign_id, RunnerLease.owner, RunnerLease.expires_at)).all()
    return {row.campaign_id for row in leases
            if row.campaign_id != but and not owner_gone(row.owner, now, row.expires_at)}
