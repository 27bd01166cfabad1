"""Creating campaigns and moving them through their lifecycle, every change audited.

draft → running ⇄ paused → finished (a draft may also be finished unrun). The lifecycle is a table, so an
impossible move (start a finished campaign) is refused with the states named, never half-done.

A campaign names only IVR flows and jurisdictions that exist (a flow in `ivr/flows`, a compliance rule pack),
checked when it is created and again when it starts; a start over a segment with no case to dial is refused
with the count. Refusals are `campaigns.errors`, each with its error_id and HTTP status.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from campaigns.errors import (  # CampaignError re-exported: callers catch it as campaigns.service's
    BadTransition,
    CampaignError,
    CampaignExists,
    EmptySegment,
    InvalidCampaign,
    NoSuchCampaign,
    UnknownIvrFlow,
    UnknownJurisdiction,
)
from cases.audit import record
from cases.models import Account, Attempt, AttemptOutcome, Campaign, CampaignStatus, Phone, PhoneStatus, utcnow
from cases.segments import Segment, case_query
from compliance import load_packs
from dialer.pacing.modes import DialMode
from ivr.flow import FLOW_DIR

MAX_ABANDON_TARGET = 0.03  # no rule pack we ship allows more; a campaign may only be stricter
TRANSITIONS: dict[tuple[CampaignStatus, str], CampaignStatus] = {
    (CampaignStatus.DRAFT, "start"): CampaignStatus.RUNNING,
    (CampaignStatus.PAUSED, "start"): CampaignStatus.RUNNING,
    (CampaignStatus.RUNNING, "pause"): CampaignStatus.PAUSED,
    (CampaignStatus.RUNNING, "finish"): CampaignStatus.FINISHED,
    (CampaignStatus.PAUSED, "finish"): CampaignStatus.FINISHED,
    (CampaignStatus.DRAFT, "finish"): CampaignStatus.FINISHED,
}
__all__ = ["CampaignError", "CampaignReport", "CampaignSchedule", "CampaignSpec", "campaign_report", "change_status",
           "create_campaign", "dialable_cases", "find_campaign", "known_flows", "known_jurisdictions", "schedule_of",
           "segment_from_json", "segment_to_json"]


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
            raise InvalidCampaign("schedule", f"bad schedule {data!r}: {error}") from error
        if schedule.start >= schedule.end or not set(schedule.weekdays) <= set(range(7)):
            raise InvalidCampaign("schedule", f"bad schedule {data!r}: start must be before end, weekdays 0-6")
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


@cache
def known_flows() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in FLOW_DIR.glob("*.yaml")))


@cache
def known_jurisdictions() -> tuple[str, ...]:
    return tuple(sorted(load_packs()))


def _check_names(segment: Segment, ivr_flow: str | None) -> None:
    """The flow and jurisdictions a campaign names exist (jurisdictions matched case-blind, as segments do)."""
    if ivr_flow is not None and ivr_flow not in known_flows():
        raise UnknownIvrFlow(ivr_flow, list(known_flows()))
    unknown = [code for code in segment.jurisdictions if code.upper() not in known_jurisdictions()]
    if unknown:
        raise UnknownJurisdiction(unknown, list(known_jurisdictions()))


def create_campaign(session: Session, spec: CampaignSpec, *, actor: str) -> Campaign:
    """A draft campaign. An empty segment is allowed here (cases may be imported before the start); the CLI
    warns of it and `change_status` refuses to start it."""
    if not spec.name.strip():
        raise InvalidCampaign("name", "a campaign needs a name")
    if session.scalar(select(Campaign.id).where(Campaign.name == spec.name)) is not None:
        raise CampaignExists(spec.name)
    if spec.dial_mode is DialMode.AGENTLESS and not spec.ivr_flow:
        raise InvalidCampaign("ivr_flow", "an agentless campaign needs an IVR flow")
    if spec.dial_mode is not DialMode.AGENTLESS and not spec.agent_group:
        raise InvalidCampaign("agent_group", f"a {spec.dial_mode.value} campaign needs an agent group")
    if not 0 < spec.abandon_target <= MAX_ABANDON_TARGET:
        raise InvalidCampaign("abandon_target", f"abandon target must be above 0 and at most {MAX_ABANDON_TARGET:.0%}")
    _check_names(spec.segment, spec.ivr_flow)
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


def dialable_cases(session: Session, segment: Segment, now: datetime) -> tuple[int, int]:
    """(cases in the segment, those of them whose debtor has an active phone) on `now`'s date. The gates may
    still refuse some at a given hour; this counts what a campaign could ever dial."""
    in_segment = case_query(segment, now.date(), now).order_by(None).subquery()
    with_phone = exists().where(Phone.debtor_id == Account.debtor_id, Phone.status == PhoneStatus.ACTIVE)
    cases = session.scalar(select(func.count()).select_from(in_segment)) or 0
    dialable = session.scalar(select(func.count()).select_from(Account)
                              .where(Account.id.in_(select(in_segment.c.id)), with_phone)) or 0
    return cases, dialable


def change_status(session: Session, campaign_id: int, action: str, *, actor: str,
                  now: datetime | None = None) -> Campaign:
    """Move the campaign by `action`. A start checks the names it holds again and that its segment has a case
    to dial at `now` (default: the current time)."""
    campaign = session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise NoSuchCampaign(campaign_id)
    target = TRANSITIONS.get((campaign.status, action))
    if target is None:
        raise BadTransition(campaign.name, action, campaign.status.value)
    if target is CampaignStatus.RUNNING:
        segment = segment_from_json(campaign.definition["segment"])
        _check_names(segment, campaign.ivr_flow)
        cases, dialable = dialable_cases(session, segment, now or utcnow())
        if not dialable:
            raise EmptySegment(campaign.name, cases)
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
        raise NoSuchCampaign(name_or_id)
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

