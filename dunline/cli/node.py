"""`dunline node drain|resume|status NODE`: take a cluster node out of the campaigns and back (campaigns/drain.py)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import typer

from dunline.cli.context import CliContext, console, fail

node_app = typer.Typer(help="Cluster nodes: drain one before stopping or upgrading it, resume it after.",
                       no_args_is_help=True)
POLL_S = 0.5


def _now() -> datetime:
    return datetime.now(timezone.utc)  # leases are judged by the real clock, as the nodes write them


@node_app.command("drain")
def drain(ctx: typer.Context, node: str,
          wait: float = typer.Option(0.0, help="seconds to wait for the node's calls to end; 0: ask and return")) -> None:
    """Stop NODE dialling: its runners stop, its calls up end as they will, the other nodes go on."""
    from campaigns.drain import campaigns_on, request_drain

    cli: CliContext = ctx.obj
    actor = cli.act("node drain")
    store = cli.migrated_store()
    with store.session() as session:
        request_drain(session, node, actor=actor, now=_now())
    deadline = time.monotonic() + wait
    while True:
        with store.reading() as session:
            left = campaigns_on(session, node, _now())
        if not left:
            console.print(f"node {node} drained: it runs no campaign")
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    if wait > 0:
        raise fail(f"node {node} still runs campaign(s) {', '.join(map(str, left))} after {wait:.0f} s: "
                   f"calls still up; it drains on")
    console.print(f"node {node} asked to drain; it still runs campaign(s) {', '.join(map(str, left))} "
                  f"while their calls end (dunline node status {node})")


@node_app.command("resume")
def resume(ctx: typer.Context, node: str) -> None:
    """Let NODE take campaigns again."""
    from campaigns.drain import resume as resume_node

    cli: CliContext = ctx.obj
    actor = cli.act("node drain")
    with cli.migrated_store().session() as session:
        resumed = resume_node(session, node, actor=actor)
    console.print(f"node {node} resumed" if resumed else f"node {node} was not draining")


@node_app.command("status")
def status(ctx: typer.Context, node: str) -> None:
    """Whether NODE drains and which campaigns it still runs."""
    from campaigns.drain import campaigns_on, draining

    cli: CliContext = ctx.obj
    with cli.migrated_store().reading() as session:
        asked, left = draining(session, node), campaigns_on(session, node, _now())
    runs = ", ".join(map(str, left)) or "none"
    console.print(f"node {node}: {'draining' if asked else 'taking campaigns'}; campaigns running there: {runs}")
