"""After a crash: attempts left in flight by a runner that is gone are closed as interrupted, so nothing is
lost and the gates, which count them like any other attempt, never let the same case be dialled again past
its caps; attempts of runners still alive (campaigns/lease.py) are left alone, so one dead node's calls are
closed while the other nodes' calls of the same campaign go on. Then every
recording of a closed or interrupted attempt that has no after-call job yet gets one."""

from __future__ import annotations

from datetime import datetime

from campaigns.attempts import interrupt_orphans, queue_aftercalls
from cases import Store
from cases.models import utcnow


def close_interrupted(store: Store, now: datetime, *, lease: tuple[int, str] | None = None,
                      wall_now: datetime | None = None, actor: str = "recovery") -> list[int]:
    """Close the in-flight attempts whose runner is gone; their ids. Called at start-up holding `lease`
    (campaign, owner) before any dialling, and by a cluster node's host every few seconds for its peers' deaths.
    `now` stamps them (the campaign's clock); leases are judged by the real clock, `wall_now`."""
    with store.session() as session:
        return interrupt_orphans(session, now, wall_now=wall_now or utcnow(), but=lease, actor=actor)


def sweep_aftercalls(store: Store) -> list[int]:
    """Queue the after-call job of every recording left without one; the attempt ids queued."""
    with store.session() as session:
        return queue_aftercalls(session)
