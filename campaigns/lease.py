"""Who runs a campaign: a lease in the case store per runner, renewed while the runner lives.

A campaign's in-flight attempts belong to the runner that claimed them (the attempt's `owner`), so recovery
(campaigns/recovery.py) closes them only once that runner is gone: its lease lapsed, or it was a process on
this host that no longer exists (a restart after `kill -9` need not wait out the lease).

One node (no node id set): a lease is exclusive. A live lease held by another runner is waited for up to one
lease period, then refused: two runners never dial the same campaign. A cluster of nodes (`shared`): every
node hosting a running campaign holds a lease of its own on it and runs a runner for its own agents; they all
draw from the one hopper, whose claims lock the case (campaigns/attempts.py `claim`), so no case is handed to
two nodes. Shared and exclusive runners exclude each other, so a lone node started without its node id
beside a cluster does not join it by mistake.
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
from cases.models import Campaign, RunnerLease, utcnow

LEASE_S = 30.0  # a runner that has not renewed for this long is presumed dead


class LeaseHeld(RuntimeError):
    """Another live runner holds the campaign."""


SHARED = "node="  # how a cluster node's owner id ends: `host:pid:node=<node id>`


def new_owner(node: str | None = None) -> str:
    """This process's owner id; a cluster node's names its node id (and marks the lease shared)."""
    return f"{socket.gethostname()}:{os.getpid()}:{SHARED + node if node else uuid.uuid4().hex[:8]}"


def node_of(owner: str) -> str | None:
    """The node id an owner names; None for a lone runner's."""
    tail = owner.split(":", 2)[-1]
    return tail[len(SHARED):] if tail.startswith(SHARED) else None


def is_shared(owner: str) -> bool:
    return node_of(owner) is not None


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

    @property
    def renew_s(self) -> float:
        """How often the runner renews: six times a period, so a short database outage does not cost it."""
        return self.lease_s / 6

    def try_acquire(self) -> str | None:
        """Take the lease when no live runner excludes ours (any other, for an exclusive lease; an exclusive
        one, for a shared lease); None, else such a holder's owner id. The leases of the campaign's runners that
        are gone are deleted: their attempts, no longer under a live lease, are recovery's to close."""
        now = self.clock()
        shared = is_shared(self.owner)
        with self.store.session() as session:
            # The campaign row is the lock: two runners taking their first leases at once see each other.
            session.execute(select(Campaign.id).where(Campaign.id == self.campaign_id).with_for_update())
            held = session.scalars(select(RunnerLease).where(RunnerLease.campaign_id == self.campaign_id)).all()
            holder = next((lease.owner for lease in held if lease.owner != self.owner
                           and not (shared and is_shared(lease.owner))
                           and not owner_gone(lease.owner, now, lease.expires_at)), None)
            if holder is not None:
                return holder
            for lease in held:
                if lease.owner != self.owner and owner_gone(lease.owner, now, lease.expires_at):
                    session.delete(lease)
            lease = next((lease for lease in held if lease.owner == self.owner), None)
            if lease is None:
                lease = RunnerLease(campaign_id=self.campaign_id, owner=self.owner, expires_at=now)
                session.add(lease)
            lease.acquired_at, lease.expires_at = now, now + timedelta(seconds=self.lease_s)
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
        """Extend the lease; False when it is no longer ours (it lapsed and recovery swept it, or another
        runner took the campaign)."""
        now = self.clock()
        with self.store.session() as session:
            lease = session.get(RunnerLease, (self.campaign_id, self.owner), with_for_update=True)
            if lease is None:
                return False
            lease.expires_at = now + timedelta(seconds=self.lease_s)
            return True

    def release(self) -> None:
        with self.store.session() as session:
            session.execute(delete(RunnerLease).where(RunnerLease.campaign_id == self.campaign_id,
                                                      RunnerLease.owner == self.owner))


def live_runners(session: Session, now: datetime, *, but: tuple[int, str] | None = None) -> set[tuple[int, str]]:
    """(campaign, owner) of every runner alive, other than `but` (the caller's own, just taken: attempts under
    it are a dead run's)."""
    leases = session.execute(select(RunnerLease.campaign_id, RunnerLease.owner, RunnerLease.expires_at)).all()
    return {(row.campaign_id, row.owner) for row in leases
            if (row.campaign_id, row.owner) != but and not owner_gone(row.owner, now, row.expires_at)}


def forget_gone(session: Session, now: datetime) -> int:
    """Delete the leases of runners that are gone (after recovery closed their attempts); how many."""
    leases = session.scalars(select(RunnerLease).with_for_update()).all()
    gone = [lease for lease in leases if owner_gone(lease.owner, now, lease.expires_at)]
    for lease in gone:
        session.delete(lease)
    return len(gone)
