"""Agents across cluster nodes (issue 22) on the real case store: a seat per agent names the node holding their
phone's leg; a dead node's seats are shared out among the live nodes once its lease lapses, a draining node
gives up the seats of agents between calls, and any node's API takes an agent's wish for the holder to follow."""

import threading
from datetime import timedelta

import pytest

from campaigns.drain import request_drain
from campaigns.lease import LEASE_S
from campaigns.seats import STALE_SYNCS, AgentSeats, Wanted
from cases import Store
from cases.models import AgentSeat
from tests.campaigns.test_lease import ELSEWHERE, Clock
from tests.campaigns.test_nodes import NODE_A, NODE_B, pg  # noqa: F401 (a fixture)

NODE_C = ELSEWHERE + "node=c"
READY = Wanted("ready", None)


def seats(store: Store, clock: Clock, *owners: str) -> list[AgentSeats]:
    return [AgentSeats(store, owner, clock=clock) for owner in owners]


def three_nodes(store: Store, clock: Clock, *, on_a: int) -> list[AgentSeats]:
    """Nodes A, B and C holding `on_a` seats (a0, a1...), b0 and c0."""
    a, b, c = seats(store, clock, NODE_A, NODE_B, NODE_C)
    for n in range(on_a):
        assert a.ask(f"a{n}", READY)
    assert b.ask("b0", READY) and c.ask("c0", READY)
    return [a, b, c]


def holders(store: Store) -> dict[str, str | None]:
    with store.reading() as session:
        return {seat.agent_id: seat.owner for seat in session.query(AgentSeat)}


def test_the_node_asked_takes_a_free_seat_and_another_nodes_api_only_records_the_wish(store: Store) -> None:
    clock = Clock()
    a, b = seats(store, clock, NODE_A, NODE_B)
    assert a.ask("ana", READY)
    assert b.ask("ana", Wanted("paused", "lunch")) == NODE_A  # ana's phone is A's: B does not call it
    assert b.holder("ana") == NODE_A and b.holder("bo") is None
    assert holders(store) == {"ana": NODE_A}
    assert a.sync() == {"ana": Wanted("paused", "lunch")}  # A follows what ana said through B
    assert b.sync() == {}


def test_a_dead_nodes_seats_are_shared_by_the_live_nodes_once_its_lease_lapses_and_not_before(store: Store) -> None:
    clock = Clock()
    a, b, c = three_nodes(store, clock, on_a=6)
    clock.now += timedelta(seconds=LEASE_S - 1)  # A has stopped renewing, but its lease still runs
    assert b.sync() == {"b0": READY} and c.sync() == {"c0": READY}
    clock.now += timedelta(seconds=2)
    taken_b, taken_c = set(b.sync()) - {"b0"}, set(c.sync()) - {"c0"}
    assert len(taken_b) == 3 and len(taken_c) == 3  # 8 seats over 2 live nodes: 4 each
    assert taken_b | taken_c == {f"a{n}" for n in range(6)}
    assert NODE_A not in holders(store).values()


def test_a_node_alone_takes_every_orphan_at_once(store: Store) -> None:
    clock = Clock()
    a, b = seats(store, clock, NODE_A, NODE_B)
    for n in range(3):
        assert b.ask(f"b{n}", READY)
    assert a.ask("a0", READY)
    a.release()  # A stopped cleanly
    assert set(b.sync()) == {"b0", "b1", "b2", "a0"}  # B alone, 4 seats: its share is 4, so it takes a0 at once
    assert holders(store)["a0"] == NODE_B
    c = AgentSeats(store, NODE_C, clock=clock)
    assert c.ask("c0", READY) and c.ask("c1", READY)
    c.release()
    clock.now += timedelta(seconds=1)
    assert b.sync().keys() == {"b0", "b1", "b2", "a0", "c0", "c1"}  # 6 over B alone


def test_orphans_beyond_a_nodes_share_wait_for_the_other_nodes_then_go_to_any(store: Store) -> None:
    clock = Clock()
    a, b, c = three_nodes(store, clock, on_a=4)
    a.release()
    assert len(b.sync()) == 3  # 6 seats, B and C live: B's share is 3; C is slow to sync
    assert list(holders(store).values()).count(None) == 2
    clock.now += timedelta(seconds=STALE_SYNCS * b.sync_s - 1)
    assert len(b.sync()) == 3
    clock.now += timedelta(seconds=1)
    assert len(b.sync()) == 5  # the seats left over go to B after all
    assert holders(store)["c0"] == NODE_C


def test_a_draining_node_gives_up_its_agents_between_calls_and_keeps_the_one_in_a_call(store: Store) -> None:
    clock = Clock()
    a, b = seats(store, clock, NODE_A, NODE_B)
    for agent in ("ana", "bo", "cy"):
        assert a.ask(agent, READY)
    with store.session() as session:
        request_drain(session, "a", actor="ops", now=clock())
    assert a.sync(busy=frozenset({"bo"})) == {"bo": READY}
    assert b.sync().keys() == {"ana", "cy"}
    assert a.sync() == {}  # bo's call ended
    assert b.sync().keys() == {"ana", "bo", "cy"}


def test_an_agent_who_leaves_loses_their_seat(store: Store) -> None:
    clock = Clock()
    a, b = seats(store, clock, NODE_A, NODE_B)
    assert a.ask("ana", READY) and a.ask("bo", READY)
    assert b.ask("ana", Wanted("paused", "shift over", leaving=True)) == NODE_A
    assert a.sync()["ana"].leaving  # A hangs up ana's phone once her call ends ...
    a.sync(left=["ana"])  # ... and says so
    assert holders(store) == {"bo": NODE_A}
    a.release()
    assert b.ask("bo", Wanted("paused", "shift over", leaving=True)) is None  # nobody holds bo: the seat just goes
    assert holders(store) == {}


def test_a_node_renews_its_seats_so_a_live_node_keeps_them(store: Store) -> None:
    clock = Clock()
    a, b = seats(store, clock, NODE_A, NODE_B)
    assert a.ask("ana", READY)
    for _ in range(10):
        clock.now += timedelta(seconds=a.sync_s)
        assert a.sync() == {"ana": READY}
        assert b.sync() == {}


def test_two_nodes_syncing_at_once_never_take_one_seat_twice(pg: Store) -> None:  # noqa: F811
    clock = Clock()
    dead = AgentSeats(pg, ELSEWHERE + "node=dead", clock=clock)
    for n in range(40):
        assert dead.ask(f"x{n}", READY)
    clock.now += timedelta(seconds=LEASE_S + 1)
    nodes = seats(pg, clock, NODE_A, NODE_B, NODE_C)
    held: list[dict[str, Wanted]] = [{} for _ in nodes]
    start = threading.Barrier(len(nodes))

    def sync(index: int) -> None:
        start.wait()
        for _ in range(3):
            held[index] = nodes[index].sync()

    threads = [threading.Thread(target=sync, args=(n,)) for n in range(len(nodes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counted = [agent for view in held for agent in view]
    assert len(counted) == len(set(counted)) == 40
    assert set(holders(pg).values()) <= {NODE_A, NODE_B, NODE_C}


@pytest.mark.parametrize("leaving", [False, True])
def test_a_seat_of_a_lapsed_node_is_taken_by_the_node_its_agent_asks(store: Store, leaving: bool) -> None:
    clock = Clock()
    a, b = seats(store, clock, NODE_A, NODE_B)
    assert a.ask("ana", READY)
    clock.now += timedelta(seconds=LEASE_S + 1)
    assert b.ask("ana", Wanted("paused", "x", leaving=leaving)) == (None if leaving else NODE_B)
    assert holders(store) == ({} if leaving else {"ana": NODE_B})
