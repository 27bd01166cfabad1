import pytest

from dialer.agents import TRANSITIONS, AgentEvent, AgentPool, AgentState, IllegalTransition, step


def test_every_state_event_pair_is_handled_or_refused() -> None:
    for state in AgentState:
        for event in AgentEvent:
            if (state, event) in TRANSITIONS:
                assert step(state, event) is TRANSITIONS[(state, event)]
            else:
                with pytest.raises(IllegalTransition):
                    step(state, event)


def pool_of(*names: str) -> AgentPool:
    pool = AgentPool()
    for name in names:
        pool.add(name, {"g"}, wrap_seconds=10)
        pool.login(name, 0)
    return pool


def test_routing_picks_the_longest_idle_ready_agent_of_the_group() -> None:
    pool = pool_of("a", "b", "c")
    pool.add("other", {"elsewhere"})
    pool.login("other", 0)
    pool.ready("other", 0)
    pool.ready("b", 5)
    pool.ready("a", 7)
    assert pool.reserve_longest_idle("g", 10, "call-1").agent_id == "b"
    assert pool.reserve_longest_idle("g", 10, "call-2").agent_id == "a"
    assert pool.reserve_longest_idle("g", 10, "call-3") is None  # c is paused, other is not in the group


def test_call_cycle_with_timed_wrap_up_and_events() -> None:
    pool = pool_of("a")
    seen = []
    pool.subscribe(seen.append)
    pool.ready("a", 0)
    agent = pool.reserve_longest_idle("g", 1, "call")
    pool.connect("a", 2)
    pool.hang_up("a", 100)
    assert agent.state is AgentState.WRAP_UP and pool.next_wrap_end() == 110
    assert pool.tick(109) == [] and pool.tick(110) == ["a"]
    assert [(e.old, e.new) for e in seen] == [
        (AgentState.PAUSED, AgentState.READY), (AgentState.READY, AgentState.RESERVED),
        (AgentState.RESERVED, AgentState.ON_CALL), (AgentState.ON_CALL, AgentState.WRAP_UP),
        (AgentState.WRAP_UP, AgentState.READY)]


def test_pause_with_reason_and_illegal_moves() -> None:
    pool = pool_of("a")
    pool.ready("a", 0)
    pool.pause("a", 3, "lunch")
    assert pool.agents["a"].pause_reason == "lunch"
    with pytest.raises(IllegalTransition):
        pool.connect("a", 4)


def test_snapshot_for_pacing() -> None:
    pool = pool_of("a", "b", "c", "d")
    for name in "abc":
        pool.ready(name, 0)
    pool.connect("a", 10)
    pool.connect("b", 10)
    pool.hang_up("b", 20)
    snap = pool.snapshot("g", 25)
    assert snap.ready == 1 and snap.on_call_elapsed == (15,) and snap.wrap_remaining == (5,) and snap.paused == 1
    assert snap.staffed == 3
