"""Campaigns: a segment called under a rule pack, in a dial mode, by an agent group (or the IVR).

The status is persisted so a restart resumes what was running; the definition (segment, mode, caller ID,
schedule) is a JSON document validated by `campaigns.service` before it is stored.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, JsonDocument, enum_column, utcnow


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[CampaignStatus] = enum_column(CampaignStatus, default=CampaignStatus.DRAFT, index=True)
    dial_mode: Mapped[str] = mapped_column(String(16))
    agent_group: Mapped[str | None] = mapped_column(String(64))
    ivr_flow: Mapped[str | None] = mapped_column(String(100))
    caller_id: Mapped[str | None] = mapped_column(String(32))
    abandon_target: Mapped[float] = mapped_column(default=0.03)
    definition: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)  # segment, schedule, terms
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RunnerLease(Base):
    """Who runs a campaign now: one runner per campaign, or one per node in a cluster (campaigns/lease.py),
    each renewed while it lives. A runner's in-flight attempts are its own; recovery closes them only once its
    lease has lapsed."""

    __tablename__ = "runner_leases"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100), primary_key=True)  # host:pid:node (or token) of the runner
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class NodeDrain(Base):
    """A cluster node asked to drain (`dunline node drain`): it takes no campaign lease and dials nobody new
    until the row is deleted (`dunline node resume`); its calls up end as they will."""

    __tablename__ = "node_drains"

    node_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentSeat(Base):
    """An agent signed in to a cluster: what they asked for, and the node (its runner owner id) holding their
    phone's nailed-up leg, renewed while that node lives (campaigns/seats.py). A seat whose node stopped
    renewing is taken by another node, which calls the phone again."""

    __tablename__ = "agent_seats"

    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    wish: Mapped[str] = mapped_column(String(16))  # campaigns.desk.Wish
    reason: Mapped[str | None] = mapped_column(String(200))
    leaving: Mapped[bool] = mapped_column(default=False)  # logged out: the holder hangs up once their call ends
    owner: Mapped[str | None] = mapped_column(String(100))  # None: free, for any node to take
    expires_at: Mapped[datetime]  # the holder's lease; a free seat's: when it was freed
