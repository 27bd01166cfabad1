"""Dial modes per campaign, and the pacer each one uses."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from dialer.pacing.predictive import PredictiveConfig, PredictivePacer
from dialer.pacing.view import PacingPolicy, PacingView, PowerPacer, ProgressivePacer


class DialMode(enum.StrEnum):
    PREVIEW = "preview"  # the agent sees the case, then dials: the pacer places nothing by itself
    PROGRESSIVE = "progressive"  # one line per idle agent
    POWER = "power"  # a fixed number of lines per idle agent
    PREDICTIVE = "predictive"  # Dunline's model-based pacer
    AGENTLESS = "agentless"  # IVR-only campaigns, capped by a concurrent-call limit


class PreviewPacer(ProgressivePacer):
    name = "preview"

    def lines_to_dial(self, view: PacingView) -> int:
        return 0


@dataclass
class AgentlessPacer(ProgressivePacer):
    """Keeps up to `max_concurrent` calls in progress (ringing or in the IVR); no agents involved."""

    max_concurrent: int = 10
    name: str = "agentless"

    def lines_to_dial(self, view: PacingView) -> int:
        in_progress = len(view.ringing_elapsed) + view.waiting + len(view.agents.on_call_elapsed)
        return max(0, self.max_concurrent - in_progress)


def pacer_for(mode: DialMode, *, lines_per_agent: float = 2.0, max_concurrent: int = 10,
              predictive: PredictiveConfig | None = None) -> PacingPolicy:
    if mode is DialMode.PREVIEW:
        return PreviewPacer()
    if mode is DialMode.PROGRESSIVE:
        return ProgressivePacer()
    if mode is DialMode.POWER:
        return PowerPacer(lines_per_agent)
    if mode is DialMode.AGENTLESS:
        return AgentlessPacer(max_concurrent)
    return PredictivePacer(config=predictive or PredictiveConfig())
