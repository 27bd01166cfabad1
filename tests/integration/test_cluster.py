"""Issue 22, the SIP front of a cluster: kamailio (deploy/kamailio/cluster.cfg) spreads the carrier's calls over
three `dunline serve` nodes that share one PostgreSQL database and one Redis, probing them with OPTIONS.

SIPp plays the carrier and calls our number through kamailio; every call must reach some node's IVR (its run
is audited in the shared case store under the call's Call-ID) and the calls must be spread over all three.
The third node joins as the runbook adds one (a line in
the dispatcher list, `kamcmd dispatcher.reload`, no restart). Then one node is killed with SIGKILL: once a probe has gone unanswered, every call goes to the two that are
left and none fails. A stranger's INVITE towards a PSTN number through the front is refused 403.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cases import Store, migrate
from cases.models import AuditEntry
from crypto import MasterKeys
from crypto.keys import ENVIRONMENT
from tests.conftest import fresh_pg_database, require
from tests.integration.peers import Process, free_port

ROOT = Path(__file__).resolve().parents[2]
DUNLINE = str(Path(sys.executable).parent / "dunline")
SIPP = Path(__file__).parent / "sipp"
REDIS_URL = "redis://127.0.0.1:6379/12"  # this test's own Redis database, shared by the three nodes
NODES = 3
CLUSTER_KEY = f"cluster1:{base64.b64encode(secrets.token_bytes(32)).decode()}"  # the nodes' DUNLINE_MASTER_KEY
PROBE_S = 1  # the dispatcher's OPTIONS interval
PROBE_TIMEOUT_S = 3  # cluster.cfg's fr_timer: a probe unanswered this long takes a node out


@pytest.fixture
def cluster_database() -> Iterator[str]:
    """A PostgreSQL database of its own, migrated; the nodes share it."""
    for url in fresh_pg_database("dunline_cluster"):
        store = Store(url, keys=MasterKeys(Path("unused"), environ={ENVIRONMENT: CLUSTER_KEY}))
        migrate.upgrade(store.engine)
        store.dispose()
        yield url


class ClusterProxy(Process):
    """kamailio with the cluster configuration, dispatching to `nodes` (their SIP ports on 127.0.0.1)."""

    def __init__(self, folder: Path, nodes: list[int]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port, self.listing, self.control = free_port(), folder / "dispatcher.list", f"unix:{folder / 'ctl'}"
        self.list_nodes(nodes)
        super().__init__("kamailio", "-f", str(ROOT / "deploy" / "kamailio" / "cluster.cfg"), "-DD", "-E",
                         "-l", f"udp:127.0.0.1:{self.port}", "-Y", str(folder), "-P", str(folder / "kamailio.pid"),
                         "-w", str(folder), "-m", "32", "-M", "8", "-A", f'DS_LIST="{self.listing}"',
                         "-A", f'CTL_SOCKET="{self.control}"', "-A", f"DS_PING_S={PROBE_S}", ready="INFO")

    def list_nodes(self, nodes: list[int]) -> None:
        self.listing.write_text("".join(f"1 sip:127.0.0.1:{port}\n" for port in nodes))

    async def reload(self) -> None:
        process = await asyncio.create_subprocess_exec("kamcmd", "-s", self.control, "dispatcher.reload",
                                                       stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output = (await asyncio.wait_for(process.communicate(), 10))[0].decode()
        assert process.returncode == 0, output

    def dispatched(self, since: int = 0) -> Counter[int]:
        """How many calls went to each node's port, counting log lines from `since`."""
        found = (re.search(r"dispatched \S+ to sip:127\.0\.0\.1:(\d+)", line) for line in self.lines[since:])
        return Counter(int(match.group(1)) for match in found if match)


def node_environment(data: Path, database: str, sip_port: int, http_port: int, proxy: int, key: str) -> dict[str, str]:
    data.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "DUNLINE_DATA_DIR": str(data), "DUNLINE_DATABASE_URL": database,
            "DUNLINE_REDIS_URL": REDIS_URL, "DUNLINE_MASTER_KEY": key,
            "DUNLINE_SECRET_KEY": "a-long-console-secret-for-the-cluster",
            "DUNLINE_AGENT_SIP_SECRET": "a-long-agent-sip-secret-for-the-cluster",
            "DUNLINE_SIP_PORT": str(sip_port), "DUNLINE_HTTP_PORT": str(http_port),
            "DUNLINE_SIP_INBOUND_SOURCES": f'["127.0.0.1:{proxy}"]', "DUNLINE_TRANSCRIPTION_WORKERS": "0",
            "DUNLINE_DRAIN_S": "2"}


def kill_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


async def carrier_calls(folder: Path, proxy: int, calls: int, scenario: str = "inbound_call.xml") -> tuple[int, str]:
    """SIPp places `calls` calls to our number through the proxy, two a second; its exit status (0: every call
    succeeded) and its error log."""
    folder.mkdir(parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{proxy}", "-sf", str(SIPP / scenario), "-m", str(calls), "-r", "2", "-l", "4",
        "-i", "127.0.0.1", "-p", str(free_port()), "-mi", "127.0.0.1", "-nostdin", "-timeout", "60s",
        "-trace_err", "-error_file", str(folder / "errors.log"), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, cwd=folder)
    code = await asyncio.wait_for(process.wait(), 90)
    errors = folder / "errors.log"
    return code, errors.read_text(errors="replace")[-3000:] if errors.exists() else ""


def ivr_runs(database: str) -> list[str]:
    """The Call-IDs of the IVR runs the nodes audited."""
    store = Store(database)
    try:
        with store.reading() as session:
            return [entry.details["call_id"]
                    for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == "ivr.run"))]
    finally:
        store.dispose()


async def test_calls_are_spread_over_the_nodes_and_a_killed_node_gets_none(cluster_database: str,
                                                                           tmp_path: Path) -> None:
    require("kamailio", "sipp")
    key = CLUSTER_KEY
    ports = [free_port() for _ in range(NODES)]
    nodes: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"node{n}.log" for n in range(NODES)]
    async with contextlib.AsyncExitStack() as stack:
        proxy = await stack.enter_async_context(ClusterProxy(tmp_path / "kamailio", ports[:2]))
        for n, port in enumerate(ports):
            env = node_environment(tmp_path / f"node{n}", cluster_database, port, free_port(socket.SOCK_STREAM),
                                   proxy.port, key)
            node = subprocess.Popen([DUNLINE, "serve"], env=env, stdout=logs[n].open("w"), stderr=subprocess.STDOUT,
                                    start_new_session=True)
            stack.callback(kill_group, node)
            nodes.append(node)

        async def until(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
            deadline = asyncio.get_running_loop().time() + seconds
            while not condition():
                assert asyncio.get_running_loop().time() < deadline, (what, proxy.output())
                await asyncio.sleep(0.3)

        for n, node in enumerate(nodes):
            await until(lambda: "dunline serving" in logs[n].read_text() or node.poll() is not None, 60,
                        f"node {n} to start")
            assert node.poll() is None, logs[n].read_text()[-3000:]
        await asyncio.sleep(3 * PROBE_S)  # the dispatcher has probed each node

        code, errors = await carrier_calls(tmp_path / "sipp0", proxy.port, 4)
        assert code == 0, errors
        assert proxy.dispatched() == Counter({ports[0]: 2, ports[1]: 2}), proxy.dispatched()

        proxy.list_nodes(ports)  # the runbook's "adding a node"
        await proxy.reload()
        await asyncio.sleep(3 * PROBE_S)
        mark = len(proxy.lines)
        code, errors = await carrier_calls(tmp_path / "sipp1", proxy.port, 6)
        assert code == 0, errors
        spread = proxy.dispatched(mark)
        assert set(spread) == set(ports) and sum(spread.values()) == 6, spread
        # A node audits a run once its call has ended, which SIPp may see first.
        await until(lambda: len(ivr_runs(cluster_database)) >= 10, 15, "the 10 runs audited")
        assert len(ivr_runs(cluster_database)) == 10

        kill_group(nodes[1])  # SIGKILL: no goodbye to anyone
        await asyncio.sleep(2 * PROBE_S + PROBE_TIMEOUT_S + 1)  # an unanswered probe takes it out
        mark = len(proxy.lines)
        code, errors = await carrier_calls(tmp_path / "sipp2", proxy.port, 6)
        assert code == 0, errors
        after = proxy.dispatched(mark)
        assert ports[1] not in after and sum(after.values()) == 6, after
        assert set(after) == {ports[0], ports[2]}, after
        await until(lambda: len(ivr_runs(cluster_database)) >= 16, 15, "the 16 runs audited")
        assert len(ivr_runs(cluster_database)) == 16

        mark = len(proxy.lines)
        code, errors = await carrier_calls(tmp_path / "sipp3", proxy.port, 1, "stranger_through_front.xml")
        assert code == 0, errors  # the scenario succeeds only on a 403
        assert not proxy.dispatched(mark) and len(ivr_runs(cluster_database)) == 16
