"""Bridged, recorded calls under load, with SIPp on both sides: the debtors' carrier and the agents' phones.

For each load level N, a dialer process (this script with --worker, on uvloop) logs in N agents whose
phones are a SIPp UAS echoing RTP, then places N debtor calls through a SIPp trunk that answers in PCMA,
speaks (SIPp's bundled G.711 capture) and hangs up after a while. Each answered debtor is bridged at once
into an idle agent leg and recorded in stereo. Printed per level: CPU of the dialer process while all N
calls are bridged (% of one core), failed calls (not answered or not bridged), lost audio (call duration
minus recording duration, summed), answer-to-bridge latency p50/p99, and the call set-up rate reached.

Goals on a 2-core machine: 0 failed calls and no lost audio up to 200 bridged calls at <= 50% of one core,
call set-up >= 50 calls/s, bridge latency p99 <= 50 ms.

`--media rtpengine`: the same with the dialer's media anchored in a user-space rtpengine (deploy/rtpengine;
issue 22's offload): bridged and recorded there, the carrier's PCMA transcoded to the agents' PCMU there;
rtpengine's CPU in the same window is printed beside the dialer's, and the recordings are the ones made from
rtpengine's captures.

`--peers-nice N` runs both SIPp sides at a lower priority, `--pin` on a core of their own (the last; the dialer
and rtpengine on the others): issue 21 asks for the dialer's side measured alone, the load generator throttled or
pinned (SIPp's own threads, one per call replaying the capture, compete for the same two cores).

    python bench/telephony.py [--json] [--levels 50,100,200,400] [--cps 100] [--steady 10] [--media here|rtpengine]
                              [--peers-nice 0] [--pin]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.floor import cpu_seconds, with_python_children  # noqa: E402

HERE = Path(__file__).parent
PCAPS = Path("/usr/share/sip-tester")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


# The dialer side -------------------------------------------------------------------------------------------------
async def run_dialer(calls: int, agents_port: int, trunk_port: int, cps: float, recordings: Path,
                     rtpengine: tuple[str, int, Path, int] | None = None) -> dict:
    """`rtpengine`: (host, ng port, recording folder, pid) of the media anchor; None: media here."""
    from dialer.agent_leg import AgentTarget, LegState
    from dialer.media.rtpengine import MediaAnchors, RtpEngine
    from dialer.switchboard import Switchboard, Trunk

    anchors = MediaAnchors(RtpEngine(rtpengine[:2]), rtpengine[2]) if rtpengine else None
    anchor_cpu = (lambda: cpu_seconds(rtpengine[3])) if rtpengine else (lambda: 0.0)
    dialer_cpu = functools.partial(with_python_children, os.getpid())  # with its capture replay process
    board = Switchboard(trunk=Trunk("127.0.0.1", trunk_port, min_ring_s=5.0), recordings=recordings,
                        anchors=anchors)
    await board.start()
    legs = [board.login(f"agent{n}", AgentTarget(f"sip:agent{n}@127.0.0.1:{agents_port}", ("127.0.0.1", agents_port)),
                        keepalive_s=3600) for n in range(calls)]
    deadline = time.monotonic() + 30
    while any(leg.state is not LegState.IDLE for leg in legs) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    agents_up = sum(leg.state is LegState.IDLE for leg in legs)

    latencies: list[float] = []
    answered_times: list[float] = []
    results: list[tuple[bool, float, float, Path | None]] = []  # (bridged, call seconds, recorded seconds, file)
    all_bridged = asyncio.Event()
    window: dict[str, float] = {}

    async def one_call(n: int) -> None:
        debtor = await board.call_debtor(f"+86138{n:08d}", ring_timeout=20)
        if not debtor.answered:
            results.append((False, 0.0, 0.0, None))
            return
        answered_times.append(time.monotonic())
        idle = board.idle_agents()
        if not idle:
            await board.ua.hang_up(debtor.call)
            results.append((False, 0.0, 0.0, None))
            return
        connection = board.connect(debtor, idle[0])
        latencies.append(connection.latency_s)
        if len(latencies) == calls:
            all_bridged.set()
        await debtor.ended.wait()
        ended = time.monotonic()
        window.setdefault("first_end", ended)
        await debtor.closed.wait()  # the media closed, the recorder with it (anchored: rtpengine's capture replayed)
        recorder = debtor.media.recorder
        if recorder is None or recorder.started is None:
            results.append((True, ended - debtor.answered_at, 0.0, None))  # no audio at all: all of it lost
            return
        # The recording begins with the first packet of audio: from there to the hang-up, all must be there.
        results.append((True, ended - recorder.started, _seconds(recorder.path), recorder.path))

    started = time.monotonic()
    tasks = []
    for n in range(calls):
        tasks.append(asyncio.ensure_future(one_call(n)))
        await asyncio.sleep(max(0.0, started + (n + 1) / cps - time.monotonic()))
    with contextlib.suppress(asyncio.TimeoutError):  # not all bridged in time: no steady window, cpu_pct None
        await asyncio.wait_for(all_bridged.wait(), 60)
        window["start"], window["cpu_start"], window["anchor_start"] = time.monotonic(), dialer_cpu(), anchor_cpu()
        while "first_end" not in window:
            await asyncio.sleep(0.05)
        window["end"], window["cpu_end"], window["anchor_end"] = time.monotonic(), dialer_cpu(), anchor_cpu()
    await asyncio.wait(tasks, timeout=120)
    setup_span = (max(answered_times) - started) if answered_times else float("inf")
    for leg in legs:
        await leg.stop()
    await board.close()
    bridged = [r for r in results if r[0]]
    lost = sum(max(0.0, call - recorded) for _, call, recorded, _ in bridged)
    steady = window.get("end", 0.0) - window.get("start", 0.0)
    return {
        "calls": calls,
        "cpu_pct": round(100 * (window["cpu_end"] - window["cpu_start"]) / steady, 1) if steady > 0 else None,
        "media": "rtpengine" if rtpengine else "here",
        "rtpengine_cpu_pct": round(100 * (window["anchor_end"] - window["anchor_start"]) / steady, 1)
        if steady > 0 else None,
        "failed": calls - len(bridged),
        "lost_audio_s": round(lost, 2),
        "bridge_ms_p50": round(1000 * statistics.median(latencies), 2) if latencies else None,
        "bridge_ms_p99": round(1000 * percentile(latencies, 0.99), 2) if latencies else None,
        "setup_cps": round(len(answered_times) / setup_span, 1) if answered_times else 0.0,
        "agents_up": agents_up,
        "steady_s": round(steady, 1),
        "recordings_valid": all(_valid_wav(path) for *_, path in bridged if path),
    }


def _seconds(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as recording:
            return recording.getnframes() / recording.getframerate()
    except (OSError, wave.Error):
        return 0.0


def _valid_wav(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as recording:
            return recording.getnchannels() == 2 and recording.getnframes() > 0
    except (OSError, wave.Error):
        return False


def worker(args: argparse.Namespace) -> None:
    import uvloop

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    anchor = None
    if args.rtpengine:
        host, port, folder, pid = args.rtpengine.split(",")
        anchor = (host, int(port), Path(folder), int(pid))
    result = uvloop.run(run_dialer(args.worker, args.agents_port, args.trunk_port, args.cps, Path(args.recordings),
                                   anchor))
    print(json.dumps(result))


# The SIPp sides and the levels -------------------------------------------------------------------------------------
Pinning = tuple[list[str], list[str]]  # command prefixes: (our side, the SIPp peers)
UNPINNED: Pinning = ([], [])


def pinning() -> Pinning:
    """The peers on the last core, our side on the rest."""
    count = os.cpu_count() or 1
    if count < 2:
        sys.exit("--pin needs two cores or more")
    return ["taskset", "-c", f"0-{count - 2}"], ["taskset", "-c", str(count - 1)]


def sipp(scenario: Path, port: int, media_port: int, extra: list[str], nice: int,
         pinned: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*pinned, "nice", "-n", str(nice), "sipp", "-sf", str(scenario), "-i", "127.0.0.1",
                             "-p", str(port),
                             "-mi", "127.0.0.1", "-mp", str(media_port), "-bg", "-nostdin", "-max_socket", "4096",
                             *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_rtpengine(folder: Path, pinned: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    """deploy/rtpengine's rtpengine in user space; with the worker's --rtpengine argument for it."""
    from tests.integration.peers import rtpengine_command

    folder.mkdir(parents=True, exist_ok=True)
    port, log = free_port(), folder / "rtpengine.log"
    with log.open("wb") as output:
        process = subprocess.Popen([*pinned, *rtpengine_command(port, folder)], stdout=output,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while b"Startup complete" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"rtpengine did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    return process, f"127.0.0.1,{port},{folder},{process.pid}"


def run_level(calls: int, cps: float, steady_s: float, scratch: Path, media: str = "here", peers_nice: int = 0,
              pinned: Pinning = UNPINNED) -> dict:
    ours, peers = pinned
    agents_port, trunk_port = free_port(), free_port()
    talk_ms = int(1000 * (calls / cps + steady_s + 2))
    debtors = scratch / f"debtors-{calls}.xml"
    debtors.write_text((HERE / "sipp" / "debtors.xml").read_text().replace("PCAPS", str(PCAPS))
                       .replace("TALK_MS", str(talk_ms)))
    # -bg makes SIPp fork into the background: find and stop it by its port afterwards.
    sipp(HERE / "sipp" / "agents.xml", agents_port, free_port(), ["-rtp_echo"], peers_nice, peers).wait()
    sipp(debtors, trunk_port, free_port(), [], peers_nice, peers).wait()
    recordings = scratch / f"recordings-{calls}"
    anchor, anchor_args = None, []
    try:
        if media == "rtpengine":
            anchor, argument = start_rtpengine(scratch / f"rtpengine-{calls}", ours)
            anchor_args = ["--rtpengine", argument]
        out = subprocess.run([*ours, sys.executable, __file__, "--worker", str(calls), "--agents-port", str(agents_port),
                              "--trunk-port", str(trunk_port), "--cps", str(cps), "--recordings", str(recordings),
                              *anchor_args], capture_output=True, text=True, timeout=talk_ms / 1000 + 180)
        if out.returncode != 0:
            raise RuntimeError(f"dialer worker failed:\n{out.stderr[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run(["pkill", "-f", f"sipp .* -p ({agents_port}|{trunk_port}) "], check=False)
        if anchor is not None:
            anchor.terminate()
            anchor.wait(10)
        shutil.rmtree(recordings, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON object per load level")
    parser.add_argument("--levels", default="50,100,200,400")
    parser.add_argument("--cps", type=float, default=100.0, help="calls placed per second")
    parser.add_argument("--steady", type=float, default=10.0, help="seconds with every call bridged")
    parser.add_argument("--media", choices=("here", "rtpengine"), default="here",
                        help="relay media in the dialer process, or anchor it in rtpengine")
    parser.add_argument("--peers-nice", type=int, default=0, metavar="N",
                        help="run both SIPp sides at niceness N (0-19): the dialer's own figures without its load "
                             "generator's claim on the cores (in production carrier and phones are other machines)")
    parser.add_argument("--pin", action="store_true",
                        help="run both SIPp sides on the last core and the dialer (and rtpengine) on the others")
    parser.add_argument("--rtpengine", help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--agents-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trunk-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--recordings", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if shutil.which("sipp") is None or not (PCAPS / "g711a.pcap").exists():
        sys.exit("bench/telephony.py needs SIPp (Debian package sip-tester): run `make install` as root")
    pinned = pinning() if args.pin else UNPINNED
    with tempfile.TemporaryDirectory(prefix="dunline-telephony-") as scratch:
        if not args.json:
            print(f"{'calls':>5} {'cpu % core':>10} {'failed':>6} {'lost audio s':>12} {'bridge p50 ms':>13} "
                  f"{'bridge p99 ms':>13} {'setup cps':>9}  goals: 0 failed, 0 lost, <=50% to 200, p99<=50, >=50 cps")
        for calls in (int(level) for level in args.levels.split(",")):
            row = run_level(calls, args.cps, args.steady, Path(scratch), args.media, args.peers_nice, pinned)
            if args.json:
                print(json.dumps({**{key: row[key] for key in ("calls", "cpu_pct", "failed", "lost_audio_s",
                                                               "bridge_ms_p50", "bridge_ms_p99", "setup_cps", "media",
                                                               "rtpengine_cpu_pct")}, "peers_nice": args.peers_nice,
                                  "pinned": args.pin}))
            else:
                print(f"{row['calls']:>5} {row['cpu_pct']!s:>10} {row['failed']:>6} {row['lost_audio_s']:>12} "
                      f"{row['bridge_ms_p50']!s:>13} {row['bridge_ms_p99']!s:>13} {row['setup_cps']:>9}"
                      f"  (agents up {row['agents_up']}, {row['steady_s']} s all bridged, "
                      f"recordings valid: {row['recordings_valid']}, media {row['media']}, "
                      f"rtpengine {row['rtpengine_cpu_pct']}% core)", flush=True)


if __name__ == "__main__":
    main()
