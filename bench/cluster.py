"""Issue 22's cluster bench: the same floor (agents, debtors, predictive campaign, carrier) run on 1 and on 3
`dunline serve` nodes on this machine, and the capacity model's figures for 1,000 agents worked out from them.

Each run is the floor bench's (bench/floor.py) in cluster mode: a fresh PostgreSQL database and Redis
database 10 shared by the nodes, each node with a node id and its own data dir, SIP and HTTP ports; kamailio
with deploy/kamailio/cluster.cfg in front of the agents' phones (they register there and each node calls its
agents' phones through it); `dunline simulate pstn` as the carrier, dialled by every node directly; the agent
bots (`dunline simulate agents`) in a process of their own, agent n saying "ready" on node n mod N, so each
node holds an even share. The campaign is created and started on the first node and runs on all of them. The
1-node run is the same cluster with one node, so the two differ only in the number of nodes.

Per run: calls placed in the window and the setup rate (placed per second), calls carried (bridged to an
agent) and failures (network errors, attempts left in flight or interrupted: 0 is the bar), the attempts a
node's sweep closed as interrupted (audited; no node dies here, so each was a live node's call), abandon rate
(the floor's), answer-to-bridge p50 and p99 (the worst node's, from its GET /api/metrics: nodes' histograms do
not merge; answering-machine detection is in it, up to its 3.5 s budget); the serve processes' CPU (summed
over the nodes, from /proc): idle (--idle-seconds with every agent ready and no campaign), then from the start
until every call dialled in the window has ended, per call placed, per call-minute (minutes debtor calls were
up) and above the idle upkeep per call up; kamailio's CPU; PostgreSQL's (the backends serving the bench
database that were connected at the end) and its transactions; Redis's commands and CPU (the whole server:
anything else on it counts too). Then the capacity model (deploy/CAPACITY.md) worked from the last run.

This machine's cores are shared by every process of the run (and by whatever else runs here): 3 nodes here
do not have 3 times the cores, so the 3-node run shows what a cluster costs per call (coordination: leases,
seat syncs, the floor's abandon ledger read from the case store), not how far it scales.

    python bench/cluster.py [--json] [--agents 12] [--seconds 90] [--idle-seconds 10] [--nodes 1 3]
                            [--cases 1500] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bench.floor import (AT, DRAIN_S, Processes, attempt_figures, bench_main, cpu_seconds, drive,  # noqa: E402
                         free_port, start_phones, stock)
from cases import Store  # noqa: E402
from cases.models import AuditEntry  # noqa: E402
from tests.conftest import fresh_pg_database  # noqa: E402
from tests.integration.test_cluster import CLUSTER_KEY, ClusterProxy, node_environment  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/10"  # a Redis database no test uses
LEASE_S = 6.0
MODEL_AGENTS = 1000
MODEL_LINES = 1000  # dialling 3:1, about 1,000 debtor calls up at once (issue 22)
CORE_HEADROOM = 0.6  # plan to keep each node's cores 60% busy at most: peaks, GC, the media clock's deadline


@dataclass
class Cluster:
    """A running cluster: its nodes' APIs and serve pids, the front, the users' API tokens."""

    apis: list[str]
    pids: list[int]
    front: ClusterProxy
    minted: dict[str, str]


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of a process and its children (kamailio forks its workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(entry.name) == root or int(stat[1]) == root:
                    total += cpu_seconds(int(entry.name))
    return total


def interrupted(database_url: str) -> int:
    """Attempts a node's sweep closed as interrupted (audited), however they were closed after: no node dies in
    this bench, so each is a call of a live node taken for a dead one's."""
    store = Store(database_url)
    try:
        with store.reading() as session:
            return session.scalar(select(func.count()).where(AuditEntry.action == "attempt.interrupted")) or 0
    finally:
        store.dispose()


@contextlib.contextmanager
def pg_watch(database_url: str) -> Iterator[dict[str, float]]:
    """PostgreSQL's work for the bench database while the block runs: transactions committed and rolled back,
    and the CPU seconds of the backends connected to it at the end (those that closed before are missed)."""
    engine = create_engine(database_url)
    name = database_url.rsplit("/", 1)[1]
    found: dict[str, float] = {}

    def sample() -> tuple[float, dict[int, float]]:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            xacts = connection.execute(text("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                            "WHERE datname = :name"), {"name": name}).scalar_one()
            pids = connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :name "
                                           "AND pid <> pg_backend_pid()"), {"name": name}).scalars().all()
        cpu = {}
        for pid in pids:
            with contextlib.suppress(OSError):
                cpu[pid] = cpu_seconds(pid)
        return float(xacts), cpu
    try:
        xacts_before, cpu_before = sample()
        yield found
        xacts_after, cpu_after = sample()
        found["transactions"] = xacts_after - xacts_before
        found["cpu_s"] = sum(seconds - cpu_before.get(pid, 0.0) for pid, seconds in cpu_after.items())
    finally:
        engine.dispose()


@contextlib.contextmanager
def redis_watch() -> Iterator[dict[str, float]]:
    """The Redis server's commands processed and CPU seconds while the block runs (the whole server)."""
    client = redis.Redis.from_url(REDIS_URL)
    found: dict[str, float] = {}

    def sample() -> tuple[float, float]:
        stats, cpu = client.info("stats"), client.info("cpu")
        return float(stats["total_commands_processed"]), float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])
    try:
        commands_before, cpu_before = sample()
        yield found
        commands_after, cpu_after = sample()
        found["commands"], found["cpu_s"] = commands_after - commands_before, cpu_after - cpu_before
    finally:
        client.close()


@contextlib.asynccontextmanager
async def cluster(data: Path, database_url: str, *, nodes: int, agents: int, cases: int,
                  seed: int) -> AsyncIterator[Cluster]:
    """The empty database stocked with `cases` debtors, the carrier, kamailio and `nodes` serve nodes, and the
    agents' phones registered at kamailio and ready, spread over the nodes; all stopped in order afterwards."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    pstn_port = free_port(socket.SOCK_DGRAM)
    sip_ports = [free_port(socket.SOCK_DGRAM) for _ in range(nodes)]
    http_ports = [free_port(socket.SOCK_STREAM) for _ in range(nodes)]
    async with contextlib.AsyncExitStack() as stack:
        front = await stack.enter_async_context(ClusterProxy(data / "kamailio", sip_ports))
        envs = [{**node_environment(data / f"node{n}", database_url, sip_ports[n], http_ports[n], front.port,
                                    CLUSTER_KEY),
                 "DUNLINE_REDIS_URL": REDIS_URL, "DUNLINE_NODE_ID": f"n{n}",
                 "DUNLINE_CAMPAIGN_LEASE_S": str(LEASE_S),
                 "DUNLINE_SIP_AGENT_PROXY": f"127.0.0.1:{front.port}", "DUNLINE_TRUNK_HOST": "127.0.0.1",
                 "DUNLINE_TRUNK_PORT": str(pstn_port), "DUNLINE_DRAIN_S": str(DRAIN_S),
                 "DUNLINE_LOG_LEVEL": "WARNING"} for n in range(nodes)]
        for env in envs:
            env.pop("DUNLINE_CONFIG", None)
        floor = Processes(data, envs[0])
        stack.callback(floor.kill_all)
        names = [f"agent{n}" for n in range(1, agents + 1)]
        minted = stock(floor, database_url, names, cases=cases, seed=seed)
        floor.start("pstn", "simulate", "pstn", "--port", str(pstn_port), "--seed", str(seed))
        await floor.wait_for("pstn", "pstn simulator on", 30)
        pids = [floor.start(f"node{n}", "serve", "--at", AT, env=env).pid for n, env in enumerate(envs)]
        for n in range(nodes):
            await floor.wait_for(f"node{n}", "dunline serving", 90)
        apis = [f"http://127.0.0.1:{port}" for port in http_ports]
        await start_phones(floor, agents, f"127.0.0.1:{front.port}", apis)
        yield Cluster(apis, pids, front, minted)
        await floor.stop("agents", 30)  # every call is over: the phones go first
        for n in range(nodes):
            await floor.stop(f"node{n}", DRAIN_S + 30)
        await floor.stop("pstn", 30)


async def one_run(args: argparse.Namespace, data: Path, nodes: int) -> dict[str, Any]:
    with contextlib.contextmanager(fresh_pg_database)("dunline_bench_cluster") as database_url:
        async with cluster(data, database_url, nodes=nodes, agents=args.agents, cases=args.cases,
                           seed=args.seed) as floor:
            idle_before = sum(cpu_seconds(pid) for pid in floor.pids)
            await asyncio.sleep(args.idle_seconds)  # every agent ready, no campaign: the nodes' own upkeep
            idle_cores = (sum(cpu_seconds(pid) for pid in floor.pids) - idle_before) / args.idle_seconds
            front_before = tree_cpu_seconds(floor.front.process.pid)
            with pg_watch(database_url) as pg, redis_watch() as rds:
                driven = await drive(floor.apis, floor.minted, args.seconds, floor.pids)
            front_cpu_s = tree_cpu_seconds(floor.front.process.pid) - front_before
        figures = attempt_figures(database_url, args.agents, args.seconds)  # every attempt closed by the drains
        swept = interrupted(database_url)
    placed, minutes = figures["attempts"], figures["call_minutes"]
    bridges = [watch.last["bridge"] for watch in driven.watches]
    return {"nodes": nodes, "agents": args.agents, "seconds": args.seconds, "placed": figures["dials"],
            "setup_per_s": round(figures["dials"] / args.seconds, 3), "carried": figures["carried"],
            "failures": figures["failures"], "swept_as_interrupted": swept, "abandon_rate": figures["abandon_rate"],
            "occupancy": figures["occupancy"], "call_minutes": minutes,
            "bridge_ms_p50": max(bridge["p50_ms"] for bridge in bridges),
            "bridge_ms_p99": max(bridge["p99_ms"] for bridge in bridges),
            "bridges_per_node": [bridge["count"] for bridge in bridges],
            "calls_peak": max(sum(calls) for calls in zip(*(watch.calls_up for watch in driven.watches))),
            "serve_cpu_pct": round(driven.cpu_pct, 1), "serve_cpu_s": round(driven.cpu_s, 2),
            "serve_cpu_s_per_call": round(driven.cpu_s / placed, 3) if placed else None,
            "serve_cpu_s_per_call_minute": round(driven.cpu_s / minutes, 3) if minutes else None,
            "serve_cores_per_call_up": round(driven.cpu_s / (60 * minutes), 4) if minutes else None,
            "serve_idle_cores": round(idle_cores, 4),
            "serve_marginal_cores_per_call_up":
                round((driven.cpu_s - idle_cores * driven.elapsed_s) / (60 * minutes), 4) if minutes else None,
            "front_cpu_s": round(front_cpu_s, 2), "pg_cpu_s": round(pg["cpu_s"], 2),
            "pg_cores": round(pg["cpu_s"] / driven.elapsed_s, 4),
            "pg_transactions_per_call": round(pg["transactions"] / placed, 1) if placed else None,
            "pg_transactions_per_s": round(pg["transactions"] / driven.elapsed_s, 1),
            "redis_commands_per_call": round(rds["commands"] / placed, 1) if placed else None,
            "redis_commands_per_s": round(rds["commands"] / driven.elapsed_s, 1),
            "redis_cpu_s": round(rds["cpu_s"], 2), "outcomes": figures["outcomes"]}


def capacity(run: dict[str, Any]) -> dict[str, Any]:
    """The paper model for MODEL_AGENTS agents and MODEL_LINES calls up from one run's measured figures
    (assumptions: deploy/CAPACITY.md). A node is one serve process: one event loop, so at most one core, kept
    CORE_HEADROOM busy. The cluster's serve CPU is the run's idle upkeep (every agent ready, no campaign: their
    phones' legs, seat and lease syncs) per agent times the agents, plus the run's marginal serve CPU per call
    up (all above the upkeep: media relay, setups, ringing, pacing, writes) times the calls up. One spare node
    takes a dead one's agents. Setups and PostgreSQL's and Redis's load scale with the agents."""
    scale = MODEL_AGENTS / run["agents"]
    marginal = run["serve_marginal_cores_per_call_up"] or 0.0
    cores = run["serve_idle_cores"] * scale + MODEL_LINES * marginal
    nodes = math.ceil(cores / CORE_HEADROOM)
    return {"model_agents": MODEL_AGENTS, "model_lines": MODEL_LINES, "model_from_nodes": run["nodes"],
            "model_lines_per_core": round(1 / marginal) if marginal else None,
            "model_serve_cores": round(cores, 1), "model_nodes": nodes, "model_nodes_with_spare": nodes + 1,
            "model_setup_per_s": round(run["setup_per_s"] * scale, 1),
            "model_pg_transactions_per_s": round(run["pg_transactions_per_s"] * scale),
            "model_pg_cores": round(run["pg_cores"] * scale, 2),
            "model_redis_commands_per_s": round(run["redis_commands_per_s"] * scale)}


async def run(args: argparse.Namespace, data: Path) -> dict[str, Any]:
    """One column per node count (a table row per figure), and the model from the last run."""
    runs = []
    for nodes in args.nodes:
        folder = data / f"nodes{nodes}"
        folder.mkdir()
        runs.append(await one_run(args, folder, nodes))
    return {**{key: [one[key] for one in runs] for key in runs[0]}, **capacity(runs[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=90.0, help="the campaign's window")
    parser.add_argument("--idle-seconds", type=float, default=10.0,
                        help="serve's CPU measured this long before the campaign starts (the nodes' upkeep)")
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 3], help="node counts, one run each")
    parser.add_argument("--cases", type=int, default=1500, help="demo debtors imported (enough not to run dry)")
    parser.add_argument("--seed", type=int, default=1)
    bench_main(parser, run, "dunline-cluster-")


if __name__ == "__main__":
    main()
