"""`dunline simulate pacing`: one simulated shift per policy, side by side; `dunline simulate calls`: a call
floor on loopback with real SIP and RTP (PSTN simulator, agent bots, the switchboard)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dialer.pacing import PredictivePacer, ProgressivePacer, VicidialPacer
from dialer.simulate.pacing import Scenario, simulate
from dunline.cli.context import console

simulate_app = typer.Typer(help="Simulations of the dialer.", no_args_is_help=True)


@simulate_app.command("pacing")
def pacing(agents: int = typer.Option(20, min=1), answer_rate: float = typer.Option(0.2, min=0.01, max=1.0),
           hours: float = typer.Option(1.0, min=0.1, max=12.0), seed: int = typer.Option(1)) -> None:
    """Compare Dunline's predictive pacer with progressive and VICIdial ADAPT_HARD_LIMIT on one scenario."""
    scenario = Scenario(agents=agents, answer_rate=answer_rate, shift_s=hours * 3600, seed=seed)
    table = Table(title=f"{agents} agents, {answer_rate:.0%} live answers, {hours:g} h")
    for column in ("policy", "occupancy", "abandon rate", "calls/agent-hour", "dials"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    for policy in (PredictivePacer(), ProgressivePacer(), VicidialPacer("hard_limit")):
        result = simulate(scenario, policy)
        table.add_row(result.policy, f"{result.occupancy:.3f}", f"{result.abandon_rate:.2%}",
                      f"{result.calls_per_agent_hour:.1f}", str(result.dials))
    console.print(table)


@simulate_app.command("calls")
def calls(calls: int = typer.Option(20, min=1, max=500), agents: int = typer.Option(4, min=1, max=200),
          seed: int = typer.Option(1), recordings: Path = typer.Option(Path("var/recordings")),
          ring_timeout: float = typer.Option(15.0, min=1.0, help="seconds before an unanswered call is cancelled")
          ) -> None:
    """Place CALLS debtor calls through the PSTN simulator and bridge the answered ones to AGENTS agent bots."""
    import uvloop

    from dialer.simulate.floor import run_floor

    report = uvloop.run(run_floor(calls, agents, recordings, seed=seed, ring_timeout_s=ring_timeout))
    table = Table(title=f"{calls} calls, {agents} agents (SIP and RTP on 127.0.0.1)")
    table.add_column("outcome")
    table.add_column("calls", justify="right")
    for outcome, count in report.outcomes.most_common():
        table.add_row(outcome, str(count))
    console.print(table)
    console.print(f"bridged {report.bridged}, abandoned (no agent free) {report.abandoned}; answer-to-bridge "
                  f"p50 {report.latency_p50_ms:.2f} ms, max {report.latency_max_ms:.2f} ms")
    console.print(f"{len(report.recordings)} stereo recordings, {report.recorded_seconds:.0f} s, in {recordings}")
