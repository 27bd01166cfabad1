"""`dunline simulate pacing`: one simulated shift per policy, side by side; `dunline simulate calls`: a call
floor on loopback with real SIP and RTP (PSTN simulator, agent bots, the switchboard); `dunline simulate pstn`
and `dunline simulate agents`: the carrier and the agents' phones as processes of their own, for a `dunline
serve` to dial through and bridge to (bench/floor.py). Those two run until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer
from rich.table import Table

from dunline.cli.context import CliContext, console, fail

T = TypeVar("T")

simulate_app = typer.Typer(help="Simulations of the dialer.", no_args_is_help=True)


@simulate_app.command("pacing")
def pacing(agents: int = typer.Option(20, min=1), answer_rate: float = typer.Option(0.2, min=0.01, max=1.0),
           hours: float = typer.Option(1.0, min=0.1, max=12.0), seed: int = typer.Option(1)) -> None:
    """Compare Dunline's predictive pacer with progressive and VICIdial ADAPT_HARD_LIMIT on one scenario."""
    from dialer.pacing import PredictivePacer, ProgressivePacer, VicidialPacer
    from dialer.simulate.pacing import Scenario, simulate

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


def _until_signalled(work: Callable[[asyncio.Event], Awaitable[T]]) -> T:
    """Run `work(stop)` on uvloop; SIGINT or SIGTERM sets `stop` and `work` closes up and returns."""
    import uvloop

    async def main() -> T:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await work(stop)
    return uvloop.run(main())


@simulate_app.command("pstn")
def pstn(port: int = typer.Option(5070, min=0, max=65535, help="UDP port the carrier listens on (0: any free)"),
         host: str = typer.Option("127.0.0.1"), seed: int = typer.Option(1),
         mix: str = typer.Option("floor", help="floor: people, machines, busy, no answer... as a real list dials; "
                                               "people: everyone answers"),
         talk: tuple[float, float] = typer.Option((4.0, 10.0), min=0.0,
                                                  help="a person talks between these seconds once answered")) -> None:
    """The PSTN simulator on its own: a carrier with a debtor behind every number, for a trunk to point at;
    people and machines let it ring as long as on the simulated floor (`dunline campaign run`)."""
    from dialer.simulate.pstn import Persona
    from dialer.simulate.standalone import run_pstn
    from dunline.campaign_floor import FLOOR_MIX, FloorPlan

    mixes = {"floor": FLOOR_MIX, "people": {Persona.PERSON: 1.0}}
    if mix not in mixes:
        raise fail(f"--mix must be one of {', '.join(mixes)}")
    if talk[0] > talk[1]:
        raise fail(f"--talk {talk[0]:g} {talk[1]:g}: the shortest talk is longer than the longest")
    tally = _until_signalled(lambda stop: run_pstn(
        host=host, port=port, seed=seed, mix=mixes[mix], ring_s=FloorPlan().ring_s, talk_s=talk, stop=stop,
        on_ready=lambda address: console.print(f"pstn simulator on {address[0]}:{address[1]} (mix {mix})")))
    console.print(f"pstn simulator stopped: {tally.received} calls received, {tally.answered} answered")


@simulate_app.command("agents")
def agents(ctx: typer.Context, count: int = typer.Option(..., "--count", min=1, max=500),
           server: str = typer.Option(..., "--server",
                                      help="host:port of the SIP registrar: serve's, or a cluster's kamailio front"),
           api: list[str] = typer.Option(..., "--api", help="serve's console URL, e.g. http://127.0.0.1:8080; "
                                         "repeated for a cluster's nodes, agent n says ready on the nth, round robin"),
           token_file: Path = typer.Option(..., "--token-file", exists=True, dir_okay=False,
                                           help='JSON object {"agent1": "<API token>", ...}'),
           prefix: str = typer.Option("agent", help="agents are PREFIX1 .. PREFIXN")) -> None:
    """COUNT agent bots: each registers with its derived SIP password (the same agent_sip_secret as serve's)
    and says "ready" over the agent-state API with its own token; their phones auto-answer and talk."""
    from dialer.simulate.standalone import run_agents
    from dialer.sip.headers import split_hostport
    from dunline.telephony import agent_sip_password

    cli: CliContext = ctx.obj
    names = [f"{prefix}{n}" for n in range(1, count + 1)]
    tokens = json.loads(token_file.read_text())
    missing = [name for name in names if name not in tokens]
    if missing:
        raise fail(f"{token_file} has no token for {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    host, port = split_hostport(server)
    ready = _until_signalled(lambda stop: run_agents(
        names=names, password_of=lambda name: agent_sip_password(cli.settings, name), registrar=(host, port or 5060),
        apis=[url.rstrip("/") for url in api], tokens=tokens, stop=stop,
        on_ready=lambda ready: console.print(f"{ready} of {count} agents ready")))
    console.print(f"agents stopped ({ready} were ready)")
