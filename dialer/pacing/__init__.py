"""Pacing: how many calls to place now, per dial mode; pure logic driven by views and a clock."""

from dialer.pacing.modes import AgentlessPacer, DialMode, PreviewPacer, pacer_for
from dialer.pacing.predictive import PredictiveConfig, PredictivePacer
from dialer.pacing.vicidial import VicidialPacer
from dialer.pacing.view import PacingPolicy, PacingView, PowerPacer, ProgressivePacer

__all__ = ["AgentlessPacer", "DialMode", "PacingPolicy", "PacingView", "PowerPacer", "PredictiveConfig",
           "PredictivePacer", "PreviewPacer", "ProgressivePacer", "VicidialPacer", "pacer_for"]
