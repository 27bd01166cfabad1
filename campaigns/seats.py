"""Agents across cluster nodes: a seat per signed-in agent in the case store, naming the node that holds their
phone's nailed-up leg and what the agent asked for (ready, paused, leaving), renewed while that node lives.

Any node's API takes an agent's wish: it is written to the seat, and the node holding the seat follows it at
its next sync (or at once, when that node is the one asked, or the seat was free and it takes it). A node
that dies stops renewing; once its lease lapses its seats are orphans, and the live nodes share them out
(each takes up to an even share of all seats; one left over for two sync periods is taken by any node),
calling the phones again through the cluster's SIP front (`Switchboard.agent_proxy`). A draining node gives
up every seat whose agent is between calls, and the rest as their calls end, so no call is cut.

A node is live when it holds a seat or a campaign lease that has not lapsed (campaigns/lease.py): an even
share counts the nodes that dial. Seats are taken under row locks that other nodes skip (SKIP LOCKED), so
two nodes never take one seat; a node that finds its seat taken (it was presumed dead, e.g. through a long
database outage) drops the agent's leg at its next sync.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from campaigns.drain import draining
from campaigns.lease import LEASE_S, node_of, owner_gone
from cases import Store
from cases.models import AgentSeat, RunnerLease, utcnow

STALE_SYNCS = 2  # an orphan left this many sync periods is taken by any node, whatever its share


@dataclass(frozen=True)
class Wanted:
    """What an agent asked for, as their seat says."""

    wish: str
    reason: str | None
    leaving: bool = False


@dataclass
class AgentSeats:
    """One node's view of the seat table. Times are the real wall clock, compared across processes."""

    store: Store
    owner: str  # this node's runner owner id (`campaigns.lease.new_owner` with the node id)
    lease_s: float = LEASE_S
    clock: Callable[[], datetime] = field(default=utcnow)

    @property
    def sync_s(self) -> float:
        """How often the holder renews and looks for orphans: six times a lease period, as campaign leases."""
        return self.lease_s / 6

    def ask(self, agent_id: str, wanted: Wanted) -> str | None:
        """Record what `agent_id` asks for; the owner id of the node holding their seat after: this node's when
        it held it or took it (free or lapsed) and is to apply the wish itself, another live node's, which
        follows it at its next sync, or None when a leaving agent has no live holder (their seat is gone:
        nobody is to call them)."""
        now = self.clock()
        with self.store.session() as session:
            seat = session.get(AgentSeat, agent_id, with_for_update=True)
            held_elsewhere = seat is not None and seat.owner not in (None, self.owner) \
                and not owner_gone(seat.owner, now, seat.expires_at)
            if seat is None:
                if wanted.leaving:
                    return None
                seat = AgentSeat(agent_id=agent_id, wish=wanted.wish, owner=None, expires_at=now)
                session.add(seat)
            elif wanted.leaving and not held_elsewhere and seat.owner != self.owner:
                session.delete(seat)
                return None
            seat.wish, seat.reason, seat.leaving = wanted.wish, wanted.reason, wanted.leaving
            if not held_elsewhere:
                seat.owner, seat.expires_at = self.owner, now + timedelta(seconds=self.lease_s)
            return seat.owner

    def holder(self, agent_id: str) -> str | None:
        """The owner id of the live node holding `agent_id`'s seat; None when no live node does."""
        now = self.clock()
        with self.store.reading() as session:
            seat = session.get(AgentSeat, agent_id)
            return None if seat is None or seat.owner is None or owner_gone(seat.owner, now, seat.expires_at) \
                else seat.owner

    def sync(self, left: Iterable[str] = (), busy: frozenset[str] = frozenset()) -> dict[str, Wanted]:
        """Renew this node's seats and take its share of the orphans; the seats it holds after, with what each
        agent wants. `left`: agents this node logged out since (their seats go); `busy`: agents in a call here,
        whose seats a draining node keeps until the call ends."""
        now = self.clock()
        node = node_of(self.owner)
        with self.store.session() as session:
            left = list(left)
            if left:
                session.execute(delete(AgentSeat).where(AgentSeat.agent_id.in_(left), AgentSeat.owner == self.owner))
            # Its own seats, waited for when another node's API is writing a wish to one; the others only counted.
            mine = list(session.scalars(select(AgentSeat).where(AgentSeat.owner == self.owner).with_for_update()))
            seats = session.execute(select(AgentSeat.owner, AgentSeat.expires_at)).all()
            if node is not None and draining(session, node):
                for seat in mine:
                    if seat.agent_id not in busy:
                        seat.owner, seat.expires_at = None, now
                mine = [seat for seat in mine if seat.owner == self.owner]
            else:
                live = {lease.owner for lease in session.scalars(select(RunnerLease))
                        if not owner_gone(lease.owner, now, lease.expires_at)}
                live |= {seat.owner for seat in seats if seat.owner is not None
                         and not owner_gone(seat.owner, now, seat.expires_at)}
                share = math.ceil(len(seats) / len(live | {self.owner})) - len(mine)
                mine += self._take(session, now, share)
            for seat in mine:
                seat.expires_at = now + timedelta(seconds=self.lease_s)
            return {seat.agent_id: Wanted(seat.wish, seat.reason, seat.leaving) for seat in mine}

    def _take(self, session: Session, now: datetime, share: int) -> list[AgentSeat]:
        """The orphans (free, or their holder's lease lapsed) this node takes: the longest free first, up to
        `share`, and any free for STALE_SYNCS periods. Locked ones are another node's to take, and skipped. A
        leaving agent's orphan is deleted: their phone's leg died with its node."""
        stale = now - timedelta(seconds=STALE_SYNCS * self.sync_s)
        orphans = session.scalars(
            select(AgentSeat).where(or_(AgentSeat.owner.is_(None), AgentSeat.expires_at <= now),
                                    or_(AgentSeat.owner.is_(None), AgentSeat.owner != self.owner))
            .order_by(AgentSeat.expires_at, AgentSeat.agent_id).with_for_update(skip_locked=True))
        taken = []
        for seat in orphans:
            if seat.leaving:
                session.delete(seat)
            elif len(taken) < share or seat.expires_at <= stale:
                seat.owner = self.owner
                taken.append(seat)
        return taken

    def release(self) -> None:
        """Free every seat this node holds (a clean stop: the other nodes take them at their next sync)."""
        now = self.clock()
        with self.store.session() as session:
            for seat in session.scalars(select(AgentSeat).where(AgentSeat.owner == self.owner).with_for_update()):
                seat.owner, seat.expires_at = None, now
