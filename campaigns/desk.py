"""The agent desk: one process-wide agent pool, fed by the switchboard's agent legs and by what agents (or
their supervisors) say through the agent-state API, shared by every campaign runner of the process.

An agent is offered calls only while logged in (their phone's nailed-up leg is up and idle) *and* ready
(they said so). Saying "ready" brings the leg up if it is not (the switchboard calls the registered phone);
"paused" takes a reason code. A leg that drops pauses a ready agent ("softphone leg down") and makes them
ready again when it is back, since they never said otherwise. Every change goes out on the event bus.

A log-out (a supervisor's, from the wallboard) takes the agent out of the pool and hangs up their phone's leg,
so the switchboard stops calling it; a call in progress is not cut: the agent is offered no new call and
leaves when it ends. Saying "ready" again logs them back in.

In a cluster (`seats`), an agent's wishes go through their seat in the case store (campaigns/seats.py): the
desk of the node holding the seat follows them, takes the seats its node is given, and lets go of the agents
whose seat another node now holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from campaigns.events import EventBus
from campaigns.seats import AgentSeats, Wanted
from dialer.agent_leg import LegState
from dialer.agents import (
    DEFAULT_WRAP_SECONDS,
    Agent,
    AgentEvent,
    AgentPool,
    AgentState,
    AgentStateChanged,
    IllegalTransition,
)
from dialer.switchboard import Switchboard

log = logging.getLogger(__name__)
DEFAULT_GROUP = "collectors"
LEG_DOWN = "softphone leg down"
NOT_READY = "not ready yet"
# An agent reserved for a call or on one is logged out when it ends (`dialer.agents.TRANSITIONS` has no
# log-out from these states, and a supervisor's log-out must not cut a debtor off).
IN_A_CALL = frozenset({AgentState.RESERVED, AgentState.ON_CALL})
TICK_S = 0.25  # the desk's own tick (`AgentDesk.run`): how soon a leg that came up makes a "ready" agent ready
SEAT_MOVED = "seat taken by another node"


class Wish(enum.StrEnum):
    """What an agent asks for through the API."""

    READY = "ready"
    PAUSED = "paused"


@dataclass(frozen=True)
class DeskState:
    agent_id: str
    state: AgentState
    reason: str | None
    phone_up: bool


class AgentDesk:
    def __init__(self, board: Switchboard, *, bus: EventBus | None = None, wrap_s: float = DEFAULT_WRAP_SECONDS,
                 groups_of: Callable[[str], frozenset[str]] = lambda agent_id: frozenset({DEFAULT_GROUP}),
                 ready_on_login: bool = False, seats: AgentSeats | None = None) -> None:
        """`ready_on_login`: a phone whose leg comes up is ready at once (a runner built without a desk, as
        tests and one-off runs do, has no API for its agents to say so); `seats`: this node's seats in a
        cluster (None: one node, the agents are all its own)."""
        self.board, self.bus, self.wrap_s, self.groups_of = board, bus or EventBus(), wrap_s, groups_of
        self.pool = AgentPool()
        self.pool.subscribe(self.bus.publish)
        self._wishes: dict[str, tuple[Wish, str | None]] = {}
        self._leaving: dict[str, str] = {}  # agent id -> the log-out's reason, until their call ends
        self._hanging_up: set[asyncio.Task[None]] = set()  # legs of agents logged out, being hung up
        self.ready_on_login = ready_on_login
        self.seats = seats
        self._left: set[str] = set()  # agents logged out here since the last seat sync
        self._seating = asyncio.Lock()  # a wish taken here and a sync never interleave: the later one wins

    def state(self, agent_id: str) -> DeskState:
        agent = self.pool.agents.get(agent_id)
        leg = self.board.agents.get(agent_id)
        return DeskState(agent_id, agent.state if agent else AgentState.LOGGED_OUT,
                         agent.pause_reason if agent else None, leg is not None and leg.state is LegState.IDLE)

    def set_state(self, agent_id: str, wish: Wish, reason: str | None = None) -> DeskState:
        """The agent-state API's one verb. A pause asked for during a call takes effect at its wrap-up."""
        self._wishes[agent_id] = (wish, reason)
        if wish is Wish.READY:
            self._leaving.pop(agent_id, None)
            if agent_id not in self.board.agents:
                self.board.login(agent_id)
        self.follow()
        return self.state(agent_id)

    async def ask(self, agent_id: str, wish: Wish, reason: str | None = None) -> DeskState:
        """What the agent-state API does: `set_state` on one node; in a cluster, the wish goes to the agent's
        seat and is followed here when this node holds it (or takes it, free), else by its holder."""
        if self.seats is None:
            return self.set_state(agent_id, wish, reason)
        async with self._seating:
            if await asyncio.to_thread(self.seats.ask, agent_id, Wanted(wish.value, reason)) == self.seats.owner:
                return self.set_state(agent_id, wish, reason)
        return self.state(agent_id)

    async def ask_out(self, agent_id: str, reason: str) -> DeskState:
        """A supervisor's log-out: `log_out` on one node; in a cluster, through the agent's seat, so the node
        holding it logs them out (at once when it is this one)."""
        if self.seats is None:
            return self.log_out(agent_id, reason)
        async with self._seating:
            holder = await asyncio.to_thread(self.seats.ask, agent_id, Wanted(Wish.PAUSED.value, reason, True))
            if holder == self.seats.owner or agent_id in self.board.agents:
                return self.log_out(agent_id, reason)
        return self.state(agent_id)

    async def knows(self, agent_id: str) -> bool:
        """Whether the agent is logged in here, or (in a cluster) on a live node."""
        if agent_id in self.pool.agents or agent_id in self.board.agents:
            return True
        return self.seats is not None and await asyncio.to_thread(self.seats.holder, agent_id) is not None

    async def sync_seats(self) -> None:
        """Renew this node's seats and follow them: the wishes of the agents it holds (a seat just taken
        calls the phone), and let go of the agents whose seat it no longer holds."""
        assert self.seats is not None
        async with self._seating:
            await self._follow_seats(self.seats)

    async def _follow_seats(self, seats: AgentSeats) -> None:
        left, self._left = self._left, set()
        busy = frozenset(agent.agent_id for agent in self.pool.agents.values() if agent.state in IN_A_CALL)
        try:
            held = await asyncio.to_thread(seats.sync, left, busy)
        except Exception:
            self._left |= left
            raise
        for agent_id, wanted in held.items():
            wish = Wish(wanted.wish)
            if wanted.leaving:
                if agent_id not in self._leaving:
                    self.log_out(agent_id, wanted.reason or "logged out")
                continue
            if agent_id not in self.board.agents:
                self.board.login(agent_id)  # a seat just taken: call the phone, whatever the agent's wish
            if self._wishes.get(agent_id) != (wish, wanted.reason):
                self.set_state(agent_id, wish, wanted.reason)
        for agent_id in tuple(self.board.agents):
            if agent_id not in held and agent_id not in self._leaving:
                self.log_out(agent_id, SEAT_MOVED)

    def log_out(self, agent_id: str, reason: str) -> DeskState:
        """Log the agent out now, or when their call ends (paused with `reason` until then)."""
        self._wishes[agent_id] = (Wish.PAUSED, reason)
        self._leaving[agent_id] = reason
        self.follow()
        return self.state(agent_id)

    def _leave(self, now: float) -> None:
        """Log out the agents leaving who are between calls: pool first, then their leg (hung up in the
        background; it is out of the switchboard's agents at once, so `follow` cannot log them back in)."""
        for agent_id, reason in tuple(self._leaving.items()):
            agent = self.pool.agents.get(agent_id)
            if agent is not None and agent.state in IN_A_CALL:
                continue
            del self._leaving[agent_id]
            self._wishes.pop(agent_id, None)
            self._left.add(agent_id)
            if agent is not None and agent.state is not AgentState.LOGGED_OUT:
                self.pool.apply(agent_id, AgentEvent.LOGOUT, now, reason)
            leg = self.board.agents.pop(agent_id, None)
            if leg is not None:
                task = asyncio.get_running_loop().create_task(leg.stop())
                self._hanging_up.add(task)
                task.add_done_callback(self._hanging_up.discard)

    def follow(self) -> None:
        """Bring the pool in line with the legs and the agents' wishes (cheap: called every tick)."""
        now = time.monotonic()
        self._leave(now)
        for agent_id, leg in self.board.agents.items():
            agent = self.pool.agents.get(agent_id) or self.pool.add(agent_id, self.groups_of(agent_id), self.wrap_s)
            wish, reason = self._wishes.get(agent_id, (Wish.READY if self.ready_on_login else Wish.PAUSED, NOT_READY))
            if leg.state is not LegState.IDLE and agent.state is AgentState.READY:
                self.pool.pause(agent_id, now, LEG_DOWN)
            elif leg.state is LegState.IDLE:
                if agent.state is AgentState.LOGGED_OUT:
                    self.pool.apply(agent_id, AgentEvent.LOGIN, now, NOT_READY)
                self._grant(agent, wish, reason, now)

    def _grant(self, agent: Agent, wish: Wish, reason: str | None, now: float) -> None:
        if wish is Wish.READY and agent.state is AgentState.PAUSED:
            self.pool.ready(agent.agent_id, now)
        elif wish is Wish.PAUSED and agent.state in (AgentState.READY, AgentState.WRAP_UP):
            self.pool.pause(agent.agent_id, now, reason or "paused")
        elif wish is Wish.PAUSED and agent.state is AgentState.PAUSED and agent.pause_reason != reason:
            agent.pause_reason = reason  # a new reason code for the same pause
            self.bus.publish(AgentStateChanged(agent.agent_id, agent.state, agent.state, now, reason))

    def tick(self) -> None:
        now = time.monotonic()
        self.follow()
        self.pool.tick(now)
        self.follow()  # a wrap-up that just ended meets a pending pause

    async def run(self, stop: asyncio.Event, period_s: float = TICK_S) -> None:
        """Tick until `stop` is set. The serving process runs this: runners tick the desk too, but with no
        campaign running nothing else would, and an agent who said "ready" would wait, paused, for a campaign
        to notice that their phone's leg had come up (or a wrap-up had run out)."""
        synced = -math.inf
        while not stop.is_set():
            self.tick()
            if self.seats is not None and time.monotonic() - synced >= self.seats.sync_s:
                synced = time.monotonic()
                try:
                    await self.sync_seats()
                except Exception:  # the case store away: the seats lapse, and the legs stay up meanwhile
                    log.exception("agent seats not synced")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), period_s)

    def reserve(self, group: str, call_id: str) -> str | None:
        """The longest-idle ready agent of `group` whose leg is idle, reserved for `call_id`; None if none."""
        self.tick()
        while (agent := self.pool.reserve_longest_idle(group, time.monotonic(), call_id)) is not None:
            if self.board.agents[agent.agent_id].state is LegState.IDLE:
                return agent.agent_id
            now = time.monotonic()
            self.pool.apply(agent.agent_id, AgentEvent.RELEASE, now)  # its phone just dropped
            self.pool.pause(agent.agent_id, now, LEG_DOWN)
        return None

    def reserve_agent(self, agent_id: str, call_id: str) -> bool:
        """Reserve this agent (a preview dial is theirs): only when ready with their leg idle."""
        self.tick()
        agent, leg = self.pool.agents.get(agent_id), self.board.agents.get(agent_id)
        if agent is None or agent.state is not AgentState.READY or leg is None or leg.state is not LegState.IDLE:
            return False
        self.pool.apply(agent_id, AgentEvent.RESERVE, time.monotonic())
        agent.call_id = call_id
        return True

    def release(self, agent_id: str) -> None:
        """A reserved agent's call never came to them (not answered, refused): ready again."""
        agent = self.pool.agents.get(agent_id)
        if agent is not None and agent.state is AgentState.RESERVED:
            self.pool.apply(agent_id, AgentEvent.RELEASE, time.monotonic())

    def connect(self, agent_id: str) -> None:
        self.pool.connect(agent_id, time.monotonic())

    def hang_up(self, agent_id: str) -> None:
        self.pool.hang_up(agent_id, time.monotonic())


__all__ = ["AgentDesk", "DeskState", "IllegalTransition", "Wish"]
