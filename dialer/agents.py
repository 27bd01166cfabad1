"""The agent pool: each agent's state as a table-driven machine, and routing to the longest-idle agent.

Pure logic driven by a clock the caller passes in (seconds, any epoch): the SIP layer, the simulator and
tests all drive the same pool. Every change is published as an `AgentStateChanged` to subscribers.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_WRAP_SECONDS = 10.0


class AgentState(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    RESERVED = "reserved"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class AgentEvent(enum.StrEnum):
    LOGIN = "login"
    RESERVE = "reserve"
    RELEASE = "release"
    CONNECT = "connect"
    HANG_UP = "hang_up"
    WRAP_DONE = "wrap_done"
    PAUSE = "pause"
    RESUME = "resume"
    LOGOUT = "logout"


S, E = AgentState, AgentEvent
TRANSITIONS: dict[tuple[AgentState, AgentEvent], AgentState] = {
    (S.LOGGED_OUT, E.LOGIN): S.PAUSED,  # an agent logs in paused and says when ready
    (S.PAUSED, E.RESUME): S.READY,
    (S.READY, E.PAUSE): S.PAUSED,
    (S.READY, E.RESERVE): S.RESERVED,
    (S.RESERVED, E.RELEASE): S.READY,
    (S.RESERVED, E.CONNECT): S.ON_CALL,
    (S.READY, E.CONNECT): S.ON_CALL,  # preview and manual dialling connect without a reservation
    (S.ON_CALL, E.HANG_UP): S.WRAP_UP,
    (S.WRAP_UP, E.WRAP_DONE): S.READY,
    (S.WRAP_UP, E.PAUSE): S.PAUSED,  # "pause after this call"
    (S.READY, E.LOGOUT): S.LOGGED_OUT,
    (S.PAUSED, E.LOGOUT): S.LOGGED_OUT,
    (S.WRAP_UP, E.LOGOUT): S.LOGGED_OUT,
}


class IllegalTransition(ValueError):
    """An agent event that the agent's current state does not allow."""


def step(state: AgentState, event: AgentEvent) -> AgentState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(f"agent cannot {event.value} while {state.value}") from None


@dataclass(frozen=True)
class AgentStateChanged:
    agent_id: str
    old: AgentState
    new: AgentState
    at: float
    reason: str | None = None


@dataclass
class Agent:
    agent_id: str
    groups: frozenset[str]
    wrap_seconds: float = DEFAULT_WRAP_SECONDS
    state: AgentState = AgentState.LOGGED_OUT
    since: float = 0.0
    pause_reason: str | None = None
    wrap_until: float | None = None
    call_id: str | None = None


@dataclass(frozen=True)
class GroupSnapshot:
    """What pacing needs to know about a group's agents at one instant."""

    ready: int
    reserved: int
    on_call_elapsed: tuple[float, ...]
    wrap_remaining: tuple[float, ...]
    paused: int

    @property
    def staffed(self) -> int:
        """Agents taking calls now or soon (not paused, not logged out)."""
        return self.ready + self.reserved + len(self.on_call_elapsed) + len(self.wrap_remaining)


@dataclass
class AgentPool:
    agents: dict[str, Agent] = field(default_factory=dict)
    listeners: list[Callable[[AgentStateChanged], None]] = field(default_factory=list)

    def subscribe(self, listener: Callable[[AgentStateChanged], None]) -> None:
        self.listeners.append(listener)

    def add(self, agent_id: str, groups: set[str] | frozenset[str], wrap_seconds: float = DEFAULT_WRAP_SECONDS) -> Agent:
        agent = Agent(agent_id, frozenset(groups), wrap_seconds)
        self.agents[agent_id] = agent
        return agent

    def apply(self, agent_id: str, event: AgentEvent, now: float, reason: str | None = None) -> Agent:
        agent = self.agents[agent_id]
        new = step(agent.state, event)
        old, agent.state, agent.since = agent.state, new, now
        agent.pause_reason = reason if new is AgentState.PAUSED else None
        agent.wrap_until = now + agent.wrap_seconds if new is AgentState.WRAP_UP else None
        if new in (AgentState.READY, AgentState.PAUSED, AgentState.LOGGED_OUT):
            agent.call_id = None
        for listener in self.listeners:
            listener(AgentStateChanged(agent_id, old, new, now, reason))
        return agent

    # Convenience verbs ------------------------------------------------------------------------------------

    def login(self, agent_id: str, now: float) -> None:
        self.apply(agent_id, AgentEvent.LOGIN, now)

    def ready(self, agent_id: str, now: float) -> None:
        self.apply(agent_id, AgentEvent.RESUME, now)

    def pause(self, agent_id: str, now: float, reason: str) -> None:
        self.apply(agent_id, AgentEvent.PAUSE, now, reason)

    def reserve_longest_idle(self, group: str, now: float, call_id: str) -> Agent | None:
        """Route a call: reserve the ready agent of `group` who has waited longest, or None."""
        candidates = [a for a in self.agents.values() if a.state is AgentState.READY and group in a.groups]
        if not candidates:
            return None
        agent = min(candidates, key=lambda a: (a.since, a.agent_id))
        self.apply(agent.agent_id, AgentEvent.RESERVE, now)
        agent.call_id = call_id
        return agent

    def connect(self, agent_id: str, now: float) -> None:
        self.apply(agent_id, AgentEvent.CONNECT, now)

    def hang_up(self, agent_id: str, now: float) -> None:
        self.apply(agent_id, AgentEvent.HANG_UP, now)

    def tick(self, now: float) -> list[str]:
        """End every timed wrap-up that has expired; returns the agents made ready."""
        done = [a.agent_id for a in self.agents.values()
                if a.state is AgentState.WRAP_UP and a.wrap_until is not None and a.wrap_until <= now]
        for agent_id in done:
            self.apply(agent_id, AgentEvent.WRAP_DONE, now)
        return done

    def next_wrap_end(self) -> float | None:
        ends = [a.wrap_until for a in self.agents.values() if a.state is AgentState.WRAP_UP and a.wrap_until is not None]
        return min(ends) if ends else None

    def snapshot(self, group: str, now: float) -> GroupSnapshot:
        members = [a for a in self.agents.values() if group in a.groups]
        return GroupSnapshot(
            ready=sum(a.state is AgentState.READY for a in members),
            reserved=sum(a.state is AgentState.RESERVED for a in members),
            on_call_elapsed=tuple(now - a.since for a in members if a.state is AgentState.ON_CALL),
            wrap_remaining=tuple(max(0.0, (a.wrap_until or now) - now) for a in members if a.state is AgentState.WRAP_UP),
            paused=sum(a.state is AgentState.PAUSED for a in members),
        )
