"""Issue 22, agents across nodes: phones registered to kamailio (deploy/kamailio/cluster.cfg), two nodes'
switchboards reaching them through it, their desks sharing the agents through seats in the case store.

An agent says "ready" on one node and that node calls their phone through the front; another node's API
takes a wish and the holder follows it, and a supervisor's log-out of an agent another node holds. Then a node dies holding an agent: within the lease time the other
node calls that phone again through kamailio and offers the agent calls, and not before the lease lapses.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from campaigns.desk import DEFAULT_GROUP, AgentDesk, Wish
from campaigns.drain import request_drain
from campaigns.seats import AgentSeats
from cases import Store
from cases.models import utcnow
from dialer.agents import AgentState
from dialer.simulate.agent_bot import AgentBot
from dialer.switchboard import Switchboard
from tests.campaigns.test_nodes import NODE_A, NODE_B, pg  # noqa: F401 (a fixture)
from tests.conftest import require
from tests.integration.peers import free_port
from tests.integration.test_cluster import ClusterProxy

LEASE_S = 3.0  # short, so the test waits seconds; a node syncs its seats every LEASE_S / 6


async def until(condition: Callable[[], bool], seconds: float, what: Callable[[], str]) -> float:
    """Wait for `condition`; how long it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not condition():
        assert loop.time() - start < seconds, what()
        await asyncio.sleep(0.05)
    return loop.time() - start


def die(board: Switchboard) -> None:
    """What SIGKILL leaves of a node's switchboard: no media, no SIP, no BYE to anyone when it is closed."""
    board.clock.close()
    board.ua.close()
    for leg in board.agents.values():
        leg.current = None


def ready_with_phone(desk: AgentDesk, agent: str) -> Callable[[], bool]:
    return lambda: (state := desk.state(agent)).state is AgentState.READY and state.phone_up


@dataclass
class Floor:
    """kamailio, two nodes (switchboard and desk, syncing seats) and the phones of ana and bo, registered at it."""

    proxy: ClusterProxy
    boards: list[Switchboard]
    desks: list[AgentDesk]
    stops: list[asyncio.Event]
    loops: list[asyncio.Task[None]]
    phones: dict[str, AgentBot]

    def said(self, what: str) -> Callable[[], str]:
        return lambda: "\n".join([what, *(f"{desk.state(agent)} leg {leg.state if leg else None}"
                                            for desk in self.desks for agent in self.phones
                                            for leg in [desk.board.agents.get(agent)]), self.proxy.output()[-3000:]])


async def floor(store: Store, tmp_path: Path, stack: contextlib.AsyncExitStack) -> Floor:
    require("kamailio")
    ports = [free_port(), free_port()]
    proxy = await stack.enter_async_context(ClusterProxy(tmp_path / "kamailio", ports))
    front = ("127.0.0.1", proxy.port)
    boards, desks, stops, loops = [], [], [], []
    for port, owner in zip(ports, (NODE_A, NODE_B)):
        board = Switchboard(port=port, agent_proxy=front)
        await board.start()
        stack.push_async_callback(board.close)
        desks.append(AgentDesk(board, seats=AgentSeats(store, owner, LEASE_S)))
        boards.append(board)
        stops.append(asyncio.Event())
        loops.append(asyncio.get_running_loop().create_task(desks[-1].run(stops[-1])))

    async def halt() -> None:
        for stop in stops:
            stop.set()
        await asyncio.gather(*loops)
    stack.push_async_callback(halt)
    phones = {}
    for agent in ("ana", "bo"):
        phone = AgentBot(agent, "unused", front)  # the front saves any registration: it trusts its network
        assert await phone.start(), proxy.output()
        stack.push_async_callback(phone.close)
        phones[agent] = phone
    return Floor(proxy, boards, desks, stops, loops, phones)


async def test_a_dead_nodes_agents_are_called_again_through_kamailio_by_another_node_within_the_lease(
        pg: Store, tmp_path: Path) -> None:  # noqa: F811
    async with contextlib.AsyncExitStack() as stack:
        cluster = await floor(pg, tmp_path, stack)
        a, b = cluster.desks
        boards, stops, loops, phones, said = cluster.boards, cluster.stops, cluster.loops, cluster.phones, cluster.said

        await a.ask("ana", Wish.READY)
        await b.ask("bo", Wish.READY)
        await until(ready_with_phone(a, "ana"), 10, said("ana's phone called by node A through the front"))
        await until(ready_with_phone(b, "bo"), 10, said("bo's phone called by node B through the front"))
        assert len(phones["ana"].legs) == len(phones["bo"].legs) == 1

        await b.ask("ana", Wish.PAUSED, "coaching")  # said on B: A holds ana, and follows
        await until(lambda: a.state("ana").state is AgentState.PAUSED, 3, said("A to follow ana's wish said on B"))
        assert a.state("ana").reason == "coaching" and "ana" not in boards[1].agents
        await b.ask("ana", Wish.READY)
        await until(ready_with_phone(a, "ana"), 3, said("ana ready again on A"))

        assert await a.knows("bo") and not await a.knows("cy")
        await a.ask_out("bo", "shift over")  # a supervisor on A logs out bo, whom B holds
        await until(lambda: b.state("bo").state is AgentState.LOGGED_OUT and "bo" not in boards[1].agents, 3,
                    said("B to log bo out"))
        await until(phones["bo"].legs[0].ended.is_set, 3, said("bo's phone hung up"))
        await asyncio.sleep(2 * LEASE_S / 6)
        assert not await a.knows("bo")  # B's next sync gave up the seat

        stops[0].set()  # node A dies: its desk stops syncing, its sockets go silent
        await loops[0]
        die(boards[0])
        taken = await until(ready_with_phone(b, "ana"), LEASE_S + 3, said("B to take ana's seat and call her phone"))
        assert taken >= LEASE_S - 2 * LEASE_S / 6, f"taken after {taken:.1f} s, before A's lease lapsed"
        assert len(phones["ana"].legs) == 2  # called again, through the front
        assert [b.reserve(DEFAULT_GROUP, "call-1"), b.reserve(DEFAULT_GROUP, "call-2")] == ["ana", None]


async def test_a_drained_node_hands_its_agents_to_another_node_and_keeps_the_one_in_a_call_until_it_ends(
        pg: Store, tmp_path: Path) -> None:  # noqa: F811
    async with contextlib.AsyncExitStack() as stack:
        cluster = await floor(pg, tmp_path, stack)
        a, b = cluster.desks
        for agent in ("ana", "bo"):
            await a.ask(agent, Wish.READY)
            await until(ready_with_phone(a, agent), 10, cluster.said(f"{agent}'s phone called by node A"))
        assert a.reserve_agent("bo", "call-1")
        a.connect("bo")  # bo is talking to a debtor on A
        with pg.session() as session:
            request_drain(session, "a", actor="ops", now=utcnow())
        await until(ready_with_phone(b, "ana"), 3, cluster.said("B to take ana from the drained node"))
        await until(cluster.phones["ana"].legs[0].ended.is_set, 3, cluster.said("A to hang up ana's first leg"))
        await asyncio.sleep(3 * LEASE_S / 6)
        assert a.state("bo").state is AgentState.ON_CALL and "bo" not in b.board.agents  # the call goes on
        assert not cluster.phones["bo"].legs[0].ended.is_set() and len(cluster.phones["bo"].legs) == 1
        a.hang_up("bo")
        await until(ready_with_phone(b, "bo"), 3, cluster.said("B to take bo once the call ended"))
        assert len(cluster.phones["ana"].legs) == len(cluster.phones["bo"].legs) == 2
