"""The live call centre under load: `dunline serve` dialling a predictive campaign through the PSTN simulator,
its agents' phones agent bots, each in a process of its own, as production runs it.

In a fresh temporary data directory: `dunline db upgrade` (which also generates the installation's secrets),
`dunline demo-data` and `dunline import cases`, a campaign manager, a supervisor and N agents with API tokens;
then `dunline simulate pstn` (the carrier: people, machines, busy, no answer... as a real list dials),
`dunline serve` with its trunk pointed at it, and `dunline simulate agents` (each bot registers with its
derived SIP password and says "ready" over the API). A predictive campaign is created and started over HTTP
and runs for --seconds while GET /api/metrics is read every second; then it is paused and the calls dialled in
the window ring out and end with the agents still at their phones (a phone gone while calls ring would turn
every late answer into an abandon no pacer could have prevented), serve is stopped with SIGTERM (its drain
closes every attempt) and the attempts are read from the database.

Printed: dials (per hour), occupancy (agents' talk time in the window over agents x window), abandon rate
(abandoned over live answers), answer-to-bridge p50/p99 and the media clock's tick lateness p50/p99/max
(serve's own histograms), the peak of calls up (answered, not ended) and of lines in use, and serve's CPU
(% of one core, from /proc, its capture replay process included; its embedded Redis is not counted) also per
concurrent call. Issue 15's figure is 10 minutes with 40 agents; item 3's goal is clock lateness p99 <= 5 ms with
100 calls up while attempts are written (--agents 100). The three processes share the machine's cores.

`--media rtpengine` runs the same floor with serve's media anchored in a user-space rtpengine of its own
(deploy/rtpengine: bridged in rtpengine, recorded there): the figures of issue 22's offload against the
in-process relay (`--media here`, the default), rtpengine's CPU printed beside serve's.

`--peers-nice N` runs the simulator and the phones at a lower priority, so serve's figures (the media clock above
all) are measured as on a node of its own, where carrier and phones are other machines; rtpengine and serve keep
the default priority.
`--talk MIN MAX` sets how long the simulator's debtors talk (4-10 s by default, so the short window sees many
calls): longer talk holds more calls up with the same agents, e.g. 100 calls up for item 3's clock goal.

    python bench/floor.py [--json] [--agents 40] [--seconds 600] [--cases 4000] [--seed 1] [--media here|rtpengine]
                          [--talk 4 10] [--peers-nice 0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ROOT, before the installed packages

DUNLINE = str(Path(sys.executable).parent / "dunline")
ROOT = str(Path(__file__).resolve().parents[1])
AT = "2026-11-30T02:30:00+00:00"  # the gates' clock: a Monday, 10:30 in Beijing, where the demo debtors live
TICKS = os.sysconf("SC_CLK_TCK")
DRAIN_S = 15.0
WIND_DOWN_S = 90.0  # after the pause: ring timeout, answering-machine detection, a talk or safe-harbour message
CAMPAIGN = {"name": "bench", "segment": {"jurisdictions": ["CN"]}, "dial_mode": "predictive",
            "agent_group": "collectors", "caller_id": "4008001234"}


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def this_checkout(env: dict[str, str]) -> dict[str, str]:
    """`env` with this checkout's packages first on the path: the `dunline` processes then run the code the bench
    is run from, not whichever checkout the virtual environment's editable install points at (a git worktree)."""
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def with_python_children(pid: int) -> float:
    """`pid`'s CPU seconds and those of the Python processes below it (the dialer's capture replay process and
    its forkserver, dialer.media.captures), not other programs it started (the embedded Redis, SIPp)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        comm, rest = text[text.index("(") + 1:text.rindex(")")], text.rsplit(")", 1)[1].split()
        if comm.startswith("python"):
            parents.setdefault(int(rest[1]), []).append(int(stat.parent.name))
    total, below = 0.0, [pid]
    while below:
        process = below.pop()
        with contextlib.suppress(OSError):
            total += cpu_seconds(process)
        below.extend(parents.get(process, []))
    return total


@dataclass
class Processes:
    """The floor's processes, each logging to its own file; all killed (by process group) on the way out."""

    data: Path
    env: dict[str, str]
    running: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    def run(self, *args: str) -> None:
        done = subprocess.run([DUNLINE, *args], env=this_checkout(self.env), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"dunline {' '.join(args)}: {done.stdout[-2000:]}{done.stderr[-2000:]}")

    def start(self, name: str, *args: str, env: dict[str, str] | None = None, nice: int = 0) -> subprocess.Popen[str]:
        """`dunline ARGS` in the floor's environment, or in `env` (a cluster node's own), at niceness `nice`."""
        process = subprocess.Popen(["nice", "-n", str(nice), DUNLINE, *args], env=this_checkout(env or self.env),
                                   text=True, start_new_session=True, stdout=self.log(name).open("w"),
                                   stderr=subprocess.STDOUT)
        self.running[name] = process
        return process

    def log(self, name: str) -> Path:
        return self.data / f"{name}.log"

    async def wait_for(self, name: str, text: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.log(name).read_text():
            if self.running[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not say {text!r}: {self.log(name).read_text()[-3000:]}")
            await asyncio.sleep(0.1)

    async def stop(self, name: str, seconds: float) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill_all(self) -> None:
        for process in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def provision(database_url: str, agents: list[str]) -> dict[str, str]:
    """A campaign manager, a supervisor and the agents, each with an API token (name -> token)."""
    from cases import Store
    from cases.models import Role, User
    from console import tokens

    store = Store(database_url)
    roles = {"manager": Role.CAMPAIGN_MANAGER, "supervisor": Role.SUPERVISOR, **{name: Role.AGENT for name in agents}}
    minted = {}
    try:
        with store.session() as session:
            for name, role in roles.items():
                user = User(username=name, display_name=name, role=role)
                session.add(user)
                session.flush()
                minted[name] = tokens.mint(session, user, actor="bench", now=datetime.now(timezone.utc)).token
    finally:
        store.dispose()
    return minted


@dataclass
class Watch:
    """What serve's GET /api/metrics said, sampled once a second."""

    last: dict[str, Any] = field(default_factory=dict)
    calls_up: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def add(self, metrics: dict[str, Any]) -> None:
        self.last = metrics
        self.calls_up.append(metrics["calls"]["up"])
        self.lines.append(metrics["calls"]["up"] + metrics["calls"]["dialling"])


@dataclass
class Driven:
    """A campaign driven on the serve processes: each one's metrics, and their CPU summed over all of them."""

    watches: list[Watch]
    cpu_pct: float  # % of one core over the window
    cpu_s: float  # CPU seconds from the start until every call dialled in the window had ended
    elapsed_s: float  # that time


async def drive(apis: list[str], minted: dict[str, str], seconds: float, serve_pids: list[int]) -> Driven:
    """Create and start the campaign on the first API (a cluster's other nodes find it in the case store), watch
    every API for `seconds`, pause it and wait until every process's calls are over."""
    import aiohttp

    def auth(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {minted[user]}"}

    def cpu() -> float:
        return sum(with_python_children(pid) for pid in serve_pids)
    watches = [Watch() for _ in apis]
    async with aiohttp.ClientSession(raise_for_status=True) as http:
        await http.post(f"{apis[0]}/api/campaigns", json=CAMPAIGN, headers=auth("manager"))
        cpu_before, started = cpu(), time.monotonic()
        await http.post(f"{apis[0]}/api/campaigns/bench/start", headers=auth("manager"))
        while time.monotonic() - started < seconds:
            await asyncio.sleep(1.0)
            for api, watch in zip(apis, watches):
                async with http.get(f"{api}/api/metrics", headers=auth("supervisor")) as response:
                    watch.add(await response.json())
        cpu_pct = 100 * (cpu() - cpu_before) / (time.monotonic() - started)
        await http.post(f"{apis[0]}/api/campaigns/bench/pause", headers=auth("manager"))
        for api, watch in zip(apis, watches):
            await wind_down(http, f"{api}/api/metrics", auth("supervisor"))
            async with http.get(f"{api}/api/metrics", headers=auth("supervisor")) as response:
                watch.last = await response.json()  # the histograms with the window's last calls' bridges in
    return Driven(watches, cpu_pct, cpu() - cpu_before, time.monotonic() - started)


async def wind_down(http: Any, metrics_url: str, headers: dict[str, str]) -> None:
    """Until no debtor call is dialling or up (at most WIND_DOWN_S): the window's figures are taken already,
    but its calls are still to be answered, and the agents must be there to take them."""
    deadline = time.monotonic() + WIND_DOWN_S
    while time.monotonic() < deadline:
        async with http.get(metrics_url, headers=headers) as response:
            calls = (await response.json())["calls"]
        if calls["up"] + calls["dialling"] == 0:
            return
        await asyncio.sleep(1.0)


def attempt_figures(database_url: str, agents: int, seconds: float) -> dict[str, Any]:
    """Dials, outcomes, occupancy and abandon rate of the window, from the attempts serve wrote; and of every
    attempt (those dialled in the window ring out after it): calls carried (bridged to an agent), failures
    (network errors, and attempts left in flight or interrupted) and the minutes debtor calls were up."""
    from sqlalchemy import select

    from cases import Store
    from cases.models import Attempt, AttemptOutcome

    store = Store(database_url)
    try:
        with store.reading() as session:
            rows = session.execute(select(Attempt.started_at, Attempt.answered_at, Attempt.ended_at,
                                          Attempt.outcome, Attempt.conversation)).all()
    finally:
        store.dispose()
    if not rows:
        return {"dials": 0, "occupancy": 0.0, "abandon_rate": 0.0, "outcomes": {}, "attempts": 0, "carried": 0,
                "failures": 0, "call_minutes": 0.0}
    start = min(row.started_at for row in rows)
    end = start + timedelta(seconds=seconds)
    dials = [row for row in rows if row.started_at < end]
    talk = sum(max(0.0, (min(row.ended_at, end) - row.answered_at).total_seconds())
               for row in dials if row.conversation and row.answered_at and row.ended_at)
    abandoned = sum(1 for row in dials if row.outcome is AttemptOutcome.ABANDONED)
    live = abandoned + sum(1 for row in dials if row.conversation)
    outcomes: dict[str, int] = {}
    for row in dials:
        outcomes[row.outcome.value] = outcomes.get(row.outcome.value, 0) + 1
    failed = {AttemptOutcome.NETWORK_ERROR, AttemptOutcome.IN_FLIGHT, AttemptOutcome.INTERRUPTED}
    up = sum((row.ended_at - row.answered_at).total_seconds() for row in rows if row.answered_at and row.ended_at)
    return {"dials": len(dials), "occupancy": round(talk / (agents * seconds), 4),
            "abandon_rate": round(abandoned / live, 4) if live else 0.0, "outcomes": outcomes,
            "attempts": len(rows), "carried": sum(1 for row in rows if row.conversation),
            "failures": sum(1 for row in rows if row.outcome in failed), "call_minutes": round(up / 60, 2)}


def stock(floor: Processes, database_url: str, agents: list[str], *, cases: int, seed: int) -> dict[str, str]:
    """Migrate the floor's database, import `cases` demo debtors (all in China, where the gates' clock allows
    calls) and mint the users' tokens; the agents' are written to tokens.json for their phones."""
    floor.run("db", "upgrade")
    csv = str(floor.data / "cases.csv")
    floor.run("demo-data", csv, "--count", str(cases), "--seed", str(seed), "--zh-share", "1.0")
    floor.run("import", "cases", csv, "--skip-invalid")
    minted = provision(database_url, agents)
    (floor.data / "tokens.json").write_text(json.dumps({name: minted[name] for name in agents}))
    return minted


async def start_phones(floor: Processes, agents: int, registrar: str, apis: list[str], nice: int = 0) -> None:
    """The agents' phones (`dunline simulate agents`) registered at `registrar`, each agent ready on one of
    `apis` (round robin); returns once all are ready."""
    floor.start("agents", "simulate", "agents", "--count", str(agents), "--server", registrar,
                *(option for api in apis for option in ("--api", api)),
                "--token-file", str(floor.data / "tokens.json"), nice=nice)
    await floor.wait_for("agents", "agents ready", 120)


@dataclass
class ServedFloor:
    """A running floor: `dunline serve`, the PSTN simulator and the agents' phones, all ready."""

    api: str
    database_url: str
    agents: list[str]
    minted: dict[str, str]  # username -> API token (the agents, a manager, a supervisor)
    serve_pid: int
    rtpengine_pid: int | None = None  # the media anchor, with --media rtpengine


@contextlib.asynccontextmanager
async def served_floor(data: Path, *, agents: int, cases: int, seed: int, redis_url: str | None = None,
                       prepare: Callable[[str, list[str]], None] | None = None,
                       media: str = "here", talk: tuple[float, float] = (4.0, 10.0),
                       peers_nice: int = 0) -> AsyncIterator[ServedFloor]:
    """Import `cases` demo debtors, mint the users' tokens (`prepare(database_url, agents)` may add to them), start
    the simulator, serve and `agents` phones (the simulator and the phones at niceness `peers_nice`); yield once
    every agent is ready; stop them all in order afterwards."""
    database_url = f"sqlite:///{data / 'dunline.db'}"
    sip_port, pstn_port, http_port = (free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM),
                                      free_port(socket.SOCK_STREAM))
    env = {**os.environ, "DUNLINE_DATA_DIR": str(data), "DUNLINE_TRANSCRIPTION_WORKERS": "0",
           "DUNLINE_TRUNK_HOST": "127.0.0.1", "DUNLINE_TRUNK_PORT": str(pstn_port), "DUNLINE_SIP_PORT": str(sip_port),
           "DUNLINE_HTTP_PORT": str(http_port), "DUNLINE_DRAIN_S": str(DRAIN_S), "DUNLINE_LOG_LEVEL": "WARNING"}
    for name in ("DUNLINE_CONFIG", "DUNLINE_DATABASE_URL", "DUNLINE_AGENT_SIP_SECRET", "DUNLINE_SECRET_KEY",
                 "DUNLINE_REDIS_URL"):
        env.pop(name, None)  # this floor's own database, Redis (unless told) and the secrets `db upgrade` generates
    if redis_url:
        env["DUNLINE_REDIS_URL"] = redis_url
    floor = Processes(data, env)
    names = [f"agent{n}" for n in range(1, agents + 1)]
    api = f"http://127.0.0.1:{http_port}"
    try:
        minted = stock(floor, database_url, names, cases=cases, seed=seed)
        if prepare is not None:
            prepare(database_url, names)
        floor.start("pstn", "simulate", "pstn", "--port", str(pstn_port), "--seed", str(seed),
                    "--talk", *(f"{t:g}" for t in talk), nice=peers_nice)
        await floor.wait_for("pstn", "pstn simulator on", 30)
        anchor = await start_rtpengine(floor, data / "rtpengine") if media == "rtpengine" else None
        if anchor is not None:
            env.update({"DUNLINE_RTPENGINE": anchor[0], "DUNLINE_RTPENGINE_RECORDINGS": str(data / "rtpengine")})
        serve = floor.start("serve", "serve", "--at", AT)
        await floor.wait_for("serve", "dunline serving", 60)
        await start_phones(floor, len(names), f"127.0.0.1:{sip_port}", [api], nice=peers_nice)
        yield ServedFloor(api, database_url, names, minted, serve.pid, anchor[1] if anchor else None)
        await floor.stop("agents", 30)  # every call is over: the phones go first, so none talks to a closed serve
        await floor.stop("serve", DRAIN_S + 30)
        await floor.stop("pstn", 30)
        if anchor is not None:
            await floor.stop("rtpengine", 10)
    finally:
        floor.kill_all()


async def start_rtpengine(floor: Processes, recordings: Path) -> tuple[str, int]:
    """deploy/rtpengine's rtpengine, in user space on 127.0.0.1, recording under `recordings`: its ng address
    and its pid."""
    from tests.integration.peers import rtpengine_command

    recordings.mkdir(parents=True, exist_ok=True)
    ng = free_port(socket.SOCK_DGRAM)
    process = subprocess.Popen(rtpengine_command(ng, recordings), text=True,
                               start_new_session=True, stdout=floor.log("rtpengine").open("w"), stderr=subprocess.STDOUT)
    floor.running["rtpengine"] = process
    await floor.wait_for("rtpengine", "Startup complete", 20)
    return f"127.0.0.1:{ng}", process.pid


async def run(args: argparse.Namespace, data: Path) -> dict[str, Any]:
    async with served_floor(data, agents=args.agents, cases=args.cases, seed=args.seed,
                            redis_url=args.redis_url, media=args.media, talk=tuple(args.talk),
                            peers_nice=args.peers_nice) as floor:
        anchor_cpu = cpu_seconds(floor.rtpengine_pid) if floor.rtpengine_pid else 0.0
        driven = await drive([floor.api], floor.minted, args.seconds, [floor.serve_pid])
        if floor.rtpengine_pid:
            anchor_cpu = cpu_seconds(floor.rtpengine_pid) - anchor_cpu
    figures = attempt_figures(floor.database_url, args.agents, args.seconds)
    watch, cpu_pct = driven.watches[0], driven.cpu_pct
    clock, bridge = watch.last["clock"], watch.last["bridge"]
    mean_up = statistics.fmean(watch.calls_up) if watch.calls_up else 0.0
    return {"agents": args.agents, "seconds": args.seconds, "talk_s": args.talk, "peers_nice": args.peers_nice,
            "dials": figures["dials"],
            "dials_per_hour": round(figures["dials"] * 3600 / args.seconds),
            "occupancy": figures["occupancy"], "abandon_rate": figures["abandon_rate"],
            "bridge_ms_p50": bridge["p50_ms"], "bridge_ms_p99": bridge["p99_ms"],
            "clock_late_ms_p50": clock["p50_ms"], "clock_late_ms_p99": clock["p99_ms"],
            "clock_late_ms_max": clock["max_ms"], "calls_peak": max(watch.calls_up, default=0),
            "calls_mean": round(mean_up, 1), "lines_peak": max(watch.lines, default=0),
            "cpu_pct": round(cpu_pct, 1), "cpu_pct_per_call": round(cpu_pct / mean_up, 2) if mean_up else None,
            "media": args.media, "serve_cpu_s": round(driven.cpu_s, 1), "rtpengine_cpu_s": round(anchor_cpu, 1),
            "outcomes": figures["outcomes"]}


def bench_main(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace, Path], Awaitable[dict[str, Any]]],
               prefix: str) -> None:
    """Parse, run in a fresh data directory (removed unless --keep), print the figures as JSON or a table."""
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (logs, database)")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        result = asyncio.run(run(args, data))
    finally:
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
        else:
            print(f"data kept in {data}", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
        return
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:>{width}}  {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--cases", type=int, default=4000, help="demo debtors imported (enough not to run dry)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--redis-url", help="default: serve's embedded Redis")
    parser.add_argument("--media", choices=("here", "rtpengine"), default="here",
                        help="where serve's media is relayed: in its own process, or anchored in rtpengine")
    parser.add_argument("--talk", nargs=2, type=float, default=[4.0, 10.0], metavar=("MIN", "MAX"),
                        help="seconds a debtor talks once answered, drawn uniformly (at most the wind-down, "
                             f"{WIND_DOWN_S:g} s)")
    parser.add_argument("--peers-nice", type=int, default=0, metavar="N",
                        help="run the PSTN simulator and the agents' phones at niceness N (0-19): in production the "
                             "carrier and the phones are other machines, so serve's own figures without their load")
    bench_main(parser, run, "dunline-floor-")


if __name__ == "__main__":
    main()
