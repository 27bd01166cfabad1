"""The live terminal dashboard of a running campaign (rich): lines, agents, answer and abandon rates."""

from __future__ import annotations

import time
from collections import Counter

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from campaigns.runner import CampaignRunner


class Dashboard:
    def __init__(self, console: Console, name: str, seconds: float) -> None:
        self.console, self.name, self.seconds = console, name, seconds
        self.runner: CampaignRunner | None = None
        self._started = time.monotonic()
        self._live = Live(self._render(), console=console, refresh_per_second=2, get_renderable=self._render)

    def follow(self, runner: CampaignRunner) -> None:
        self.runner = runner

    def __enter__(self) -> Dashboard:
        self._started = time.monotonic()
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)  # type: ignore[arg-type]

    def _render(self) -> Group:
        runner = self.runner
        left = max(0.0, self.seconds - (time.monotonic() - self._started))
        lines = Table(title=f"campaign {self.name} — {left:.0f} s left", title_justify="left")
        for column in ("ringing", "waiting", "connected", "dials", "answer rate", "abandon rate", "promises",
                       "bridge p50"):
            lines.add_column(column, justify="right")
        agents = Table(title="agents", title_justify="left")
        if runner is None:
            lines.add_row(*["-"] * 8)
            return Group(lines, agents)
        summary, ledger = runner.summary, runner.ledger
        answered = summary.connected + summary.abandoned
        latencies = sorted(summary.bridge_latency_s)
        lines.add_row(str(runner.ringing), str(runner.waiting), str(summary.connected), str(summary.dials),
                      f"{answered / summary.dials:.0%}" if summary.dials else "-",
                      f"{ledger.rate(time.monotonic()):.2%}", str(summary.promises),
                      f"{1000 * latencies[len(latencies) // 2]:.1f} ms" if latencies else "-")
        states = Counter(agent.state.value for agent in runner.pool.agents.values())
        for state in sorted(states):
            agents.add_column(state, justify="right")
        agents.add_row(*(str(states[state]) for state in sorted(states)))
        return Group(lines, agents)
