"""`dunline simulate pacing`: one simulated shift per policy, side by side."""

from __future__ import annotations

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
