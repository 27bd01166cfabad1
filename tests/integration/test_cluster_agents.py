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
from pathlib import Path

from campaigns.desk import DEFAULT_GROUP, AgentDesk, Wish
from campaigns.seats import AgentSeats
from cases import Store
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


async def test_a_dead_nodes_agents_are_called_again_through_kamailio_by_another_node_within_the_lease(
        pg: Store, tmp_path: Path) -> None:  # noqa: F811
    require("kamailio")
    ports = [free_port(), free_port()]
    async with contextlib.AsyncExitStack() as stack:
        proxy = await stack.enter_async_context(ClusterProxy(tmp_path / "kamailio", ports))
        front = ("127.0.0.1", proxy.port)
        boards, desks, stops, loops = [], [], [], []
        for port, owner in zip(ports, (NODE_A, NODE_B)):
            board = Switchboard(port=port, agent_proxy=front)
            await board.start()
            stack.push_async_callback(board.close)
            desk = AgentDesk(board, seats=AgentSeats(pg, owner, LEASE_S))
            stop = asyncio.Event()
            boards.append(board), desks.append(desk), stops.append(stop)
            loops.append(asyncio.get_running_loop().create_task(desk.run(stop)))

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
        a, b = desks

        def said(what: str) -> Callable[[], str]:
            return lambda: "\n".join([what, *(f"{desk.state(agent)} leg {leg.state if leg else None}"
                                                for desk in desks for agent in ("ana", "bo")
                                                for leg in [desk.board.agents.get(agent)]), proxy.output()[-3000:]])

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
