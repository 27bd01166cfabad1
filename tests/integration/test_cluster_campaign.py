"""Issue 22's acceptance: one campaign across three `dunline serve` nodes sharing PostgreSQL and Redis, with
kamailio (deploy/kamailio/cluster.cfg) in front of the agents' phones and SIPp as the carrier, and one node
killed with SIGKILL mid-campaign.

Each agent's phone registers at kamailio and the agent says "ready" on a node of their own, which calls the
phone through the front. The campaign is started on one node and runs on all three. While the second node
has a call up, it is killed: within its lease its agent's phone is called again by another node and that
agent is bridged to debtors from there; no case is dialled twice, every attempt is closed (the dead node's
call as interrupted), the gate allowed every call, and no call is abandoned.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import redis
from sqlalchemy import select

from campaigns.lease import node_of
from cases import Store
from cases.models import Attempt, AttemptOutcome, Role, User
from console import tokens
from crypto import MasterKeys
from crypto.keys import ENVIRONMENT
from dialer.simulate.agent_bot import AgentBot
from tests.campaigns.test_campaign_run import seed
from tests.conftest import require
from tests.dunline.test_server import AT
from tests.integration.peers import SippCarrier, free_port, write_rtp_pcap
from tests.integration.test_cluster import (CLUSTER_KEY, DUNLINE, ClusterProxy, cluster_database,  # noqa: F401
                                            kill_group, node_environment)
from tests.integration.test_live_server import DEBTOR_SPEECH, SCENARIO, Api

REDIS_URL = "redis://127.0.0.1:6379/11"  # this test's own Redis database, shared by the three nodes
NODES = 3
AGENTS = tuple(f"agent{n}" for n in range(NODES))  # agent n says "ready" on node n
# Every phone answers (the carrier scenario makes numbers ending in 4 busy and in 5 silent).
NUMBERS = [f"+1415555{n:04d}" for n in range(200, 300) if n % 10 in (1, 2, 3, 6, 7, 8)][:15]
TALK_MS = 6000
LEASE_S = 6.0
VICTIM = 1  # the node killed


def add_users(store: Store) -> dict[str, str]:
    """The floor's users (a campaign manager and the agents) and an API token each."""
    now = datetime.now(timezone.utc)
    with store.session() as session:
        users = [User(username="manager", display_name="manager", role=Role.CAMPAIGN_MANAGER),
                 *(User(username=name, display_name=name, role=Role.AGENT) for name in AGENTS)]
        session.add_all(users)
        session.flush()
        return {user.username: tokens.mint(session, user, actor="test", now=now).token for user in users}


def attempts(store: Store) -> list[Attempt]:
    with store.reading() as session:
        rows = list(session.scalars(select(Attempt).order_by(Attempt.id)))
        session.expunge_all()
    return rows


def agent_ids(store: Store) -> dict[int, str]:
    with store.reading() as session:
        return {user.id: user.username for user in session.scalars(select(User).where(User.username.in_(AGENTS)))}


async def test_one_campaign_over_three_nodes_survives_a_node_killed_mid_campaign(cluster_database: str,  # noqa: F811
                                                                                tmp_path: Path) -> None:
    require("kamailio", "sipp")
    redis.Redis.from_url(REDIS_URL).flushdb()
    store = Store(cluster_database, keys=MasterKeys(Path("unused"), environ={ENVIRONMENT: CLUSTER_KEY}))
    seed(store, NUMBERS)
    user_tokens = add_users(store)
    speech = tmp_path / "debtor.pcap"
    write_rtp_pcap(speech, DEBTOR_SPEECH)
    scenario = SCENARIO.read_text().replace("SPEECH", str(speech)).replace("TALK_MS", str(TALK_MS))
    sip_ports, http_ports = [free_port() for _ in range(NODES)], [free_port(socket.SOCK_STREAM) for _ in range(NODES)]
    logs = [tmp_path / f"node{n}.log" for n in range(NODES)]
    nodes: list[subprocess.Popen[bytes]] = []
    async with contextlib.AsyncExitStack() as stack:
        carrier = await stack.enter_async_context(SippCarrier(tmp_path / "sipp", scenario))
        proxy = await stack.enter_async_context(ClusterProxy(tmp_path / "kamailio", sip_ports))
        for n in range(NODES):
            env = {**node_environment(tmp_path / f"node{n}", cluster_database, sip_ports[n], http_ports[n],
                                      proxy.port, CLUSTER_KEY),
                   "DUNLINE_REDIS_URL": REDIS_URL, "DUNLINE_NODE_ID": f"n{n}",
                   "DUNLINE_CAMPAIGN_LEASE_S": str(LEASE_S), "DUNLINE_SIP_AGENT_PROXY": f"127.0.0.1:{proxy.port}",
                   "DUNLINE_TRUNK_HOST": carrier.address[0], "DUNLINE_TRUNK_PORT": str(carrier.address[1]),
                   "DUNLINE_RING_TIMEOUT_S": "15"}
            node = subprocess.Popen([DUNLINE, "serve", "--at", AT], env=env, stdout=logs[n].open("w"),
                                    stderr=subprocess.STDOUT, start_new_session=True)
            stack.callback(kill_group, node)
            nodes.append(node)

        def said(what: str) -> str:
            return "\n".join([what, *(f"--- node {n}\n{log.read_text()[-2500:]}" for n, log in enumerate(logs)),
                              "--- kamailio", proxy.output()[-2000:], "--- carrier", carrier.errors()])

        async def until(condition, seconds: float, what: str) -> float:  # type: ignore[no-untyped-def]
            start = time.monotonic()
            while not condition():
                assert time.monotonic() - start < seconds, said(f"timed out waiting for {what}")
                await asyncio.sleep(0.2)
            return time.monotonic() - start

        for n, node in enumerate(nodes):
            await until(lambda: "dunline serving" in logs[n].read_text() or node.poll() is not None, 60,
                        f"node {n} to start")
            assert node.poll() is None, said(f"node {n} exited")
        phones = []
        for name in AGENTS:
            phone = AgentBot(name, "unused", ("127.0.0.1", proxy.port))  # the front trusts its own network
            assert await phone.start(), said(f"{name}'s phone to register at the front")
            stack.push_async_callback(phone.close)
            phones.append(phone)
        http = await stack.enter_async_context(aiohttp.ClientSession())
        apis = [Api(http, f"http://127.0.0.1:{port}", user_tokens) for port in http_ports]
        ready: dict[str, str] = {}
        deadline = time.monotonic() + 20  # until each agent's phone has been called by their node
        while set(ready.values()) != {"ready"}:
            assert time.monotonic() < deadline, said(f"agents ready: {ready}")
            ready = {name: (await apis[n].post(f"/api/agents/{name}/state", name, {"state": "ready"}))["state"]
                     for n, name in enumerate(AGENTS)}
            await asyncio.sleep(0.3)

        created = await apis[0].post("/api/campaigns", "manager",
                                     {"name": "floor", "segment": {"jurisdictions": ["US"]},
                                      "dial_mode": "progressive", "agent_group": "collectors"})
        await apis[0].post(f"/api/campaigns/{created['id']}/start", "manager")

        def victim_talking() -> bool:
            return any(a.outcome is AttemptOutcome.IN_FLIGHT and a.conversation and a.owner
                       and node_of(a.owner) == f"n{VICTIM}" for a in attempts(store))
        await until(victim_talking, 40, f"node {VICTIM} to bridge a call")
        kill_group(nodes[VICTIM])
        dialled_before = max(a.id for a in attempts(store))
        legs_before = len(phones[VICTIM].legs)
        called_again = await until(lambda: len(phones[VICTIM].legs) > legs_before, LEASE_S + 5,
                                   f"{AGENTS[VICTIM]}'s phone to be called by another node")

        def settled() -> bool:
            rows = attempts(store)
            return {a.number_e164 for a in rows} == set(NUMBERS) and all(
                a.outcome is not AttemptOutcome.IN_FLIGHT for a in rows)
        await until(settled, 120, "every case dialled and every attempt closed")

    rows = attempts(store)
    names = agent_ids(store)
    assert sorted(a.number_e164 for a in rows) == sorted(NUMBERS), "a case was dialled twice"
    assert all(a.receipt["verdict"] == "allowed" and a.ended_at is not None for a in rows)
    assert {node_of(a.owner or "") for a in rows} == {f"n{n}" for n in range(NODES)}  # one campaign, every node
    interrupted = [a for a in rows if a.outcome is AttemptOutcome.INTERRUPTED]
    assert interrupted and all(node_of(a.owner or "") == f"n{VICTIM}" for a in interrupted)
    assert not any(a.outcome is AttemptOutcome.ABANDONED for a in rows)
    taken_over = [a for a in rows if a.agent_id is not None and names[a.agent_id] == AGENTS[VICTIM]
                  and a.id > dialled_before]
    assert taken_over and all(node_of(a.owner or "") != f"n{VICTIM}" for a in taken_over), \
        f"{AGENTS[VICTIM]} got no call after node {VICTIM} died"
    assert called_again <= LEASE_S + 3, called_again
    store.dispose()
