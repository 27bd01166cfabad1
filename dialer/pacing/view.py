"""What a pacing policy sees at a decision instant, and the interface every policy implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dialer.agents import GroupSnapshot


@dataclass(frozen=True)
class PacingView:
    now: float
    agents: GroupSnapshot
    ringing_elapsed: tuple[float, ...]  # dialled, not yet answered or failed
    waiting: int  # answered by a person, waiting for an agent (inside the no-agent timeout)
    ledger_rate: float  # abandon rate in the ledger's window so far
    ledger_answered: int
    total_answered: int = 0  # live answers since the campaign started (never expiring)
    total_abandoned: int = 0

    @property
    def idle_agents(self) -> int:
        """Ready agents not already spoken for by a waiting call."""
        return max(0, self.agents.ready - self.waiting)


class PacingPolicy(Protocol):
    name: str

    def lines_to_dial(self, view: PacingView) -> int:
        """How many new calls to place now."""
        ...

    def on_resolved(self, ring_seconds: float, live: bool) -> None:
        """A dialled call was answered by a person (live) or ended otherwise, after ring_seconds."""
        ...

    def on_talk_ended(self, talk_seconds: float) -> None:
        ...

    def on_abandoned(self, at: float) -> None:
        ...


class ProgressivePacer:
    """One line per idle agent: never abandons (but for agents leaving), keeps agents waiting for rings."""

    name = "progressive"

    def lines_to_dial(self, view: PacingView) -> int:
        return max(0, view.idle_agents - len(view.ringing_elapsed))

    def on_resolved(self, ring_seconds: float, live: bool) -> None:
        """Progressive dialing needs no estimates."""

    def on_talk_ended(self, talk_seconds: float) -> None:
        """Progressive dialing needs no estimates."""

    def on_abandoned(self, at: float) -> None:
        """Progressive dialing needs no estimates."""


class PowerPacer(ProgressivePacer):
    """A fixed number of lines per idle agent (VICIdial's RATIO)."""

    name = "power"

    def __init__(self, lines_per_agent: float) -> None:
        self.lines_per_agent = lines_per_agent

    def lines_to_dial(self, view: PacingView) -> int:
        return max(0, int(view.idle_agents * self.lines_per_agent) - len(view.ringing_elapsed))
