"""Creating campaigns and moving them through their lifecycle, every change audited.

draft → running ⇄ paused → finished (a draft may also be finished unrun). The lifecycle is a table, so an
impossible move (start a finished campaign) is refused with the states named, never half-done.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.audit import record
from cases.models import Attempt, AttemptOutcome, Campaign, CampaignStatus
from cases.segments import Segment
from dialer.pacing.modes import DialMode

MAX_ABANDON_TARGET = 0.03  # no rule pack we ship allows more; a campaign may only be stricter
TRANSITIONS: dict[tuple[CampaignStatus, str], CampaignStatus] = {
    (CampaignStatus.DRAFT, "start"): CampaignStatus.RUNNING,
    (CampaignStatus.PAUSED, "start"): CampaignStatus.RUNNING,
    (CampaignStatus.RUNNING, "pause"): CampaignStatus.PAUSED,
    (CampaignStatus.RUNNING, "finish"): CampaignStatus.FINISHED,
    (CampaignStatus.PAUSED, "finish"): CampaignStatus.FINISHED,
    (CampaignStatus.DRAFT, "finish"): CampaignStatus.FINISHED,
}


class CampaignError(ValueError):
    """A campaign that cannot be created or moved as asked."""


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    segment: Segment
    dial_mode: DialMode
    agent_group: str | None = None
    ivr_flow: str | None = None
    caller_id: str | None = None
    abandon_target: float = MAX_ABANDON_TARGET
    lines_per_agent: float = 2.0  # power mode
    terms: dict[str, Any] = field(default_factory=dict)  # e.g. minimum promise, latest promise date
    schedule: CampaignSchedule | None = None  # the floor's own hours; the gates still apply the debtor's


@dataclass(frozen=True)
class CampaignSchedule:
    """When the campaign dials, in the contact centre's zone (the debtor's calling window is the gate's)."""

    start: time
    end: time
    zone: str = "UTC"
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # Monday = 0

    def open_at(self, now: datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.zone))
        return local.weekday() in self.weekdays and self.start <= local.time() < self.end

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M"), "zone": self.zone,
                "weekdays": list(self.weekdays)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CampaignSchedule:
        try:
            schedule = cls(time.fromisoformat(data["start"]), time.fromisoformat(data["end"]), data.get("zone", "UTC"),
                           tuple(data.get("weekdays", range(7))))
            ZoneInfo(schedule.zone)
        except (KeyError, ValueError, ZoneInfoNotFoundError) as error:
            raise CampaignError(f"bad schedule {data!r}: {error}") from error
        if schedule.start >= schedule.end or not set(schedule.weekdays) <= set(range(7)):
            raise CampaignError(f"bad schedule {data!r}: start must be before end, weekdays 0-6")
        return schedule


def segment_to_json(segment: Segment) -> dict[str, Any]:
    return {key: (str(value) if isinstance(value, Decimal) else list(value) if isinstance(value, tuple) else value)
            for key, value in dataclasses.asdict(segment).items()}


def segment_from_json(data: dict[str, Any]) -> Segment:
    values: dict[str, Any] = {}
    for item in dataclasses.fields(Segment):
        if item.name in data and data[item.name] is not None:
            value = data[item.name]
            values[item.name] = (tuple(value) if isinstance(value, list)
                                 else Decimal(value) if item.name.endswith("_balance") else value)
    return Segment(**values)


def create_campaign(session: Session, spec: CampaignSpec, *, actor: str) -> Campaign:
    if not spec.name.strip():
        raise CampaignError("a campaign needs a name")
    if session.scalar(select(Campaign.id).where(Campaign.name == spec.name)) is not None:
        raise CampaignError(f"campaign {spec.name!r} exists")
    if spec.dial_mode is DialMode.AGENTLESS and not spec.ivr_flow:
        raise CampaignError("an agentless campaign needs an IVR flow")
    if spec.dial_mode is not DialMode.AGENTLESS and not spec.agent_group:
        raise CampaignError(f"a {spec.dial_mode.value} campaign needs an agent group")
    if not 0 < spec.abandon_target <= MAX_ABANDON_TARGET:
        raise CampaignError(f"abandon target must be above 0 and at most {MAX_ABANDON_TARGET:.0%}")
    campaign = Campaign(name=spec.name, dial_mode=spec.dial_mode.value, agent_group=spec.agent_group,
                        ivr_flow=spec.ivr_flow, caller_id=spec.caller_id, abandon_target=spec.abandon_target,
                        definition={"segment": segment_to_json(spec.segment), "lines_per_agent": spec.lines_per_agent,
                                    "terms": spec.terms,
                                    "schedule": spec.schedule.to_json() if spec.schedule else None},
                        created_by=actor)
    session.add(campaign)
    session.flush()
    record(session, actor=actor, action="campaign.created", entity="campaign", entity_id=campaign.id,
           details={"name": spec.name, "dial_mode": spec.dial_mode.value, "segment": campaign.definition["segment"]})
    return campaign


def change_status(session: Session, campaign_id: int, action: str, *, actor: str) -> Campaign:
    campaign = session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise CampaignError(f"no campaign {campaign_id}")
    target = TRANSITIONS.get((campaign.status, action))
    if target is None:
        raise CampaignError(f"cannot {action} campaign {campaign.name!r}: it is {campaign.status.value}")
    before = campaign.status
    campaign.status = target
    record(session, actor=actor, action=f"campaign.{action}", entity="campaign", entity_id=campaign.id,
           details={"from": before.value, "to": target.value})
    return campaign


def schedule_of(campaign: Campaign) -> CampaignSchedule | None:
    data = campaign.definition.get("schedule")
    return CampaignSchedule.from_json(data) if data else None


def find_campaign(session: Session, name_or_id: str) -> Campaign:
    campaign = (session.get(Campaign, int(name_or_id)) if name_or_id.isdigit()
                else session.scalar(select(Campaign).where(Campaign.name == name_or_id)))
    if campaign is None:
        raise CampaignError(f"no campaign {name_or_id!r}")
    return campaign


@dataclass(frozen=True)
class CampaignReport:
    name: str
    status: str
    dial_mode: str
    attempts: int
    outcomes: dict[str, int]
    in_flight: int
    live_answers: int
    abandoned: int

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live_answers if self.live_answers else 0.0


def campaign_report(session: Session, campaign: Campaign) -> CampaignReport:
    rows = session.execute(select(Attempt.outcome, func.count()).where(Attempt.campaign_id == campaign.id)
                           .group_by(Attempt.outcome)).all()
    outcomes = Counter({outcome.value: count for outcome, count in rows})
    abandoned = outcomes[AttemptOutcome.ABANDONED.value]
    return CampaignReport(campaign.name, campaign.status.value, campaign.dial_mode, sum(outcomes.values()),
                          dict(outcomes), outcomes[AttemptOutcome.IN_FLIGHT.value],
                          outcomes[AttemptOutcome.ANSWERED.value] + abandoned, abandoned)

