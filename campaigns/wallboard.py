"""The wallboard: what a floor supervisor sees at one instant, per campaign and floor-wide, as one value.

Built by `build_wallboard` from inputs read elsewhere, at the same instant: the case store's tallies
(`campaigns.tallies`: dials, answers, the abandon ledger's windows, promises, the hopper's level), the calls
the process has up (ringing, waiting for an agent, connected) and the agent desk's agents. No I/O here: the
console's feed (`console/wallboard.py`) gathers the inputs and pushes the result.

Rates are of the day so far (the campaigns' clock, UTC day): the answer rate is live answers (a person
answered: put through or abandoned) over dials that have ended; the abandon rate of the day is abandons over
live answers, shown beside the ledger's 30-day and 24-hour windows and the campaign's target. The hopper runs
dry after `hopper / dials per minute` minutes at the last minute's pace (none while it does not dial).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, TypeVar

from dialer.agents import AgentState

DIAL_RATE_WINDOW = timedelta(minutes=1)
Summed = TypeVar("Summed", "Window", "Tally", "Calls")


def _plus(a: Summed, b: Summed) -> Summed:
    """Field by field: how a floor's figures are its campaigns'."""
    return type(a)(**{item.name: getattr(a, item.name) + getattr(b, item.name) for item in fields(a)})


@dataclass(frozen=True)
class Window:
    """Live answers and abandons inside one window of the abandon ledger."""

    abandoned: int = 0
    answered: int = 0

    @property
    def rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0

    __add__ = _plus


@dataclass(frozen=True)
class Tally:
    """The case store's figures of one campaign (or of attempts of no campaign) at the board's instant."""

    dials_last_minute: int = 0
    dials_today: int = 0
    ended_today: int = 0  # dials of the day that have ended (closed or interrupted)
    answered_today: int = 0  # live answers among them
    abandoned_today: int = 0
    ledger_30d: Window = Window()
    ledger_24h: Window = Window()
    promises_today: int = 0

    __add__ = _plus


@dataclass(frozen=True)
class Calls:
    """Debtor calls up now: ringing (or still being told person from machine), answered by a person and
    waiting for an agent, connected to an agent."""

    ringing: int = 0
    waiting: int = 0
    connected: int = 0

    __add__ = _plus


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    name: str
    status: str
    dial_mode: str
    agent_group: str | None
    abandon_target: float
    hopper: int  # cases the hopper may offer the gate now (see `campaigns.tallies.hopper_level`)


@dataclass(frozen=True)
class AgentView:
    agent_id: str
    state: AgentState
    reason: str | None
    groups: frozenset[str]
    seconds_in_state: float
    phone_up: bool  # the nailed-up leg to their phone is up (idle or carrying a call)


@dataclass(frozen=True)
class Figures:
    """A tally and the calls up, with what the board derives from them."""

    tally: Tally
    calls: Calls
    agents: Mapping[str, int]  # state -> agents in it

    @property
    def dials_per_minute(self) -> int:
        return self.tally.dials_last_minute

    @property
    def answer_rate(self) -> float:
        return self.tally.answered_today / self.tally.ended_today if self.tally.ended_today else 0.0

    @property
    def abandon_rate(self) -> float:
        return self.tally.abandoned_today / self.tally.answered_today if self.tally.answered_today else 0.0


@dataclass(frozen=True)
class CampaignBoard:
    campaign: CampaignInfo
    figures: Figures
    dry_at: datetime | None  # when the hopper runs dry at the last minute's pace; None while it does not dial


@dataclass(frozen=True)
class Wallboard:
    at: datetime
    campaigns: tuple[CampaignBoard, ...]
    floor: Figures  # every attempt of the store and every call up, whichever campaign
    agents: tuple[AgentView, ...] = field(default=())


def _states(agents: Iterable[AgentView]) -> dict[str, int]:
    counts = Counter(agent.state.value for agent in agents)
    return {state.value: counts[state.value] for state in AgentState}


def build_wallboard(*, at: datetime, campaigns: Sequence[CampaignInfo], tallies: Mapping[int | None, Tally],
                    calls: Mapping[int, Calls], agents: Sequence[AgentView]) -> Wallboard:
    """`tallies`: by campaign id (None: attempts of no campaign), every campaign with attempts in the windows,
    shown or not, so that the floor's figures are the store's; `calls`: by campaign id, those up now."""
    boards = []
    for campaign in campaigns:
        group = [agent for agent in agents if campaign.agent_group in agent.groups]
        figures = Figures(tallies.get(campaign.id, Tally()), calls.get(campaign.id, Calls()), _states(group))
        pace = figures.dials_per_minute
        dry_at = at + DIAL_RATE_WINDOW * (campaign.hopper / pace) if pace else None
        boards.append(CampaignBoard(campaign, figures, dry_at))
    floor = Figures(sum(tallies.values(), Tally()), sum(calls.values(), Calls()), _states(agents))
    return Wallboard(at, tuple(boards), floor, tuple(sorted(agents, key=lambda agent: agent.agent_id)))


def _window_json(window: Window) -> dict[str, Any]:
    return {"abandoned": window.abandoned, "answered": window.answered, "rate": round(window.rate, 4)}


def _figures_json(figures: Figures) -> dict[str, Any]:
    tally = figures.tally
    return {"dials_per_minute": figures.dials_per_minute, "dials_today": tally.dials_today,
            "ended_today": tally.ended_today, "answered_today": tally.answered_today,
            "abandoned_today": tally.abandoned_today, "answer_rate": round(figures.answer_rate, 4),
            "abandon_rate": round(figures.abandon_rate, 4),
            "ledger": {"30d": _window_json(tally.ledger_30d), "24h": _window_json(tally.ledger_24h)},
            "promises_today": tally.promises_today,
            "calls": {"ringing": figures.calls.ringing, "waiting": figures.calls.waiting,
                      "connected": figures.calls.connected},
            "agents": dict(figures.agents)}


def wallboard_json(board: Wallboard) -> dict[str, Any]:
    return {
        "at": board.at.isoformat(),
        "campaigns": [{"id": item.campaign.id, "name": item.campaign.name, "status": item.campaign.status,
                       "dial_mode": item.campaign.dial_mode, "agent_group": item.campaign.agent_group,
                       "abandon_target": item.campaign.abandon_target,
                       "hopper": {"level": item.campaign.hopper,
                                  "dry_at": item.dry_at.isoformat() if item.dry_at else None,
                                  "dry_in_s": round((item.dry_at - board.at).total_seconds())
                                  if item.dry_at else None},
                       **_figures_json(item.figures)} for item in board.campaigns],
        "floor": _figures_json(board.floor),
        "agents": [{"agent": agent.agent_id, "state": agent.state.value, "reason": agent.reason,
                    "groups": sorted(agent.groups), "seconds_in_state": round(agent.seconds_in_state, 1),
                    "phone_up": agent.phone_up} for agent in board.agents],
    }
