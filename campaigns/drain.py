"""Draining a cluster node (`dunline node drain NODE`): the request is a row in the case store, which the
node's campaign host reads at every poll, so it works from any machine and survives the node's restart.

A draining node stops every runner it hosts (no new dial; the calls up end as they will, each attempt closed
by its runner), takes no campaign lease, and releases its leases as its runners end; the other nodes go on
with the same campaigns, so the floor dials on with one node fewer and no call is dropped. The drain holds
until `resume`: a node restarted while draining stays out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.lease import live_runners, node_of
from cases.audit import record
from cases.models import NodeDrain


def request_drain(session: Session, node: str, *, actor: str, now: datetime) -> None:
    """Ask `node` to drain (again: nothing changes)."""
    if session.get(NodeDrain, node) is None:
        session.add(NodeDrain(node_id=node, requested_by=actor, requested_at=now))
        record(session, actor=actor, action="node.drain", entity="node", entity_id=node)


def resume(session: Session, node: str, *, actor: str) -> bool:
    """Let `node` take campaigns again; False when it was not draining."""
    drain = session.get(NodeDrain, node)
    if drain is None:
        return False
    session.delete(drain)
    record(session, actor=actor, action="node.resume", entity="node", entity_id=node)
    return True


def draining(session: Session, node: str) -> bool:
    return session.scalar(select(NodeDrain.node_id).where(NodeDrain.node_id == node)) is not None


def campaigns_on(session: Session, node: str, now: datetime) -> list[int]:
    """The campaigns a live runner on `node` still runs (a drained node has none)."""
    return sorted(campaign for campaign, owner in live_runners(session, now) if node_of(owner) == node)
