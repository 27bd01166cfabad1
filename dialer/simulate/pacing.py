"""A discrete-event model of an outbound campaign, driving the real agent pool, ledger and a pacing policy.

Calls are placed when the policy says so (it is asked every `tick_s`); each is a live answer with the
scenario's (possibly time-varying) probability after a live-ring delay, else it fails after a failure
delay. Answering machines, when the scenario has them, answer like people and are sorted by answering-
machine detection of the given accuracy: a person judged a machine is hung up on (an abandon), a machine
judged a person costs an agent a few seconds. An answered call is put through to the longest-idle agent,
or waits up to the no-agent timeout and is then abandoned. Talk times are exponential, wrap-up is timed.
Occupancy is talk and wrap-up inside the shift, a call still running when the shift ends included.
A scenario can send a share of the team on a break at once: ready agents pause there and then, agents on a
call after it ("pause after this call"), and all of them come back together.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from dialer.agents import AgentPool, AgentState
from dialer.ledger import AbandonLedger
from dialer.pacing.view import PacingPolicy, PacingView

GROUP = "collectors"


@dataclass(frozen=True)
class Scenario:
    agents: int
    answer_rate: float | Callable[[float], float]
    shift_s: float = 8 * 3600
    talk_mean_s: float | Callable[[float], float] = 120.0
    wrap_s: float = 10.0
    live_ring_s: tuple[float, float] = (4.0, 20.0)
    fail_ring_s: tuple[float, float] = (5.0, 26.0)
    no_agent_timeout_s: float = 2.0
    machine_share: float = 0.0  # of the calls that are not live answers
    amd_accuracy: float = 1.0
    amd_delay_s: float = 2.5
    machine_talk_s: float = 5.0
    pause_share: float = 0.0  # of the agents, sent on a break at once at pause_at_s for pause_s
    pause_at_s: float = 2 * 3600
    pause_s: float = 15 * 60
    seed: int = 1

    def rate_at(self, t: float) -> float:
        return self.answer_rate(t) if callable(self.answer_rate) else self.answer_rate

    def talk_mean_at(self, t: float) -> float:
        return self.talk_mean_s(t) if callable(self.talk_mean_s) else self.talk_mean_s


def drift(t: float) -> float:
    """The drift scenario: 30% for three hours, then 10%, then 25%."""
    return 0.30 if t < 3 * 3600 else 0.10 if t < 6 * 3600 else 0.25


def answer_fall(t: float) -> float:
    """Issue 21: the answer rate falls linearly from 30% to 10% during the second hour, then stays."""
    return 0.30 - 0.20 * min(1.0, max(0.0, (t - 3600) / 3600))


def talk_doubling(t: float) -> float:
    """Issue 21: mean talk time 120 s for the first hour, 240 s after."""
    return 120.0 if t < 3600 else 240.0


@dataclass
class SimResult:
    policy: str
    agents: int
    occupancy: float
    abandon_rate: float
    calls_per_agent_hour: float
    dials: int
    live_answers: int
    abandoned: int
    connected: int


@dataclass
class _Call:
    call_id: str
    dialled_at: float
    live: bool
    machine: bool
    answered_at: float = 0.0
    talk_s: float = 0.0


@dataclass
class CampaignSimulation:
    scenario: Scenario
    policy: PacingPolicy
    tick_s: float = 1.0
    pool: AgentPool = field(default_factory=AgentPool)
    ledger: AbandonLedger = field(init=False)
    _events: list[tuple[float, int, str, object]] = field(default_factory=list)
    _seq: itertools.count = field(default_factory=itertools.count)  # type: ignore[type-arg]
    _ringing: dict[str, _Call] = field(default_factory=dict)
    _waiting: dict[str, _Call] = field(default_factory=dict)
    _busy_s: float = 0.0
    _break_after_call: set[str] = field(default_factory=set)
    _dials: int = 0
    _connected: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.scenario.seed)
        self.ledger = AbandonLedger("sim", window_seconds=30 * 24 * 3600)
        for n in range(self.scenario.agents):
            agent_id = f"a{n:03d}"
            self.pool.add(agent_id, {GROUP}, wrap_seconds=self.scenario.wrap_s)
            self.pool.login(agent_id, 0.0)
            self.pool.ready(agent_id, 0.0)

    def _at(self, when: float, kind: str, payload: object = None) -> None:
        heapq.heappush(self._events, (when, next(self._seq), kind, payload))

    def run(self) -> SimResult:
        self._at(0.0, "tick")
        if self.scenario.pause_share:
            self._at(self.scenario.pause_at_s, "break")
        end = self.scenario.shift_s
        while self._events:
            now, _, kind, payload = heapq.heappop(self._events)
            if now > end:
                break
            getattr(self, f"_on_{kind}")(now, payload)
        abandoned, live = self.ledger.counts(end)
        agents = self.scenario.agents
        return SimResult(
            policy=self.policy.name, agents=agents, occupancy=self._busy_s / (agents * end),
            abandon_rate=abandoned / live if live else 0.0,
            calls_per_agent_hour=self._connected / (agents * end / 3600), dials=self._dials, live_answers=live,
            abandoned=abandoned, connected=self._connected,
        )

    # Events ---------------------------------------------------------------------------------------------------
    def _on_tick(self, now: float, _: object) -> None:
        view = PacingView(
            now=now, agents=self.pool.snapshot(GROUP, now),
            ringing_elapsed=tuple(now - c.dialled_at for c in self._ringing.values()),
            waiting=len(self._waiting), ledger_rate=self.ledger.rate(now), ledger_answered=self.ledger.counts(now)[1],
            total_answered=self.ledger.total_answered, total_abandoned=self.ledger.total_abandoned,
        )
        for _ in range(self.policy.lines_to_dial(view)):
            self._dial(now)
        self._at(now + self.tick_s, "tick")

    def _on_break(self, now: float, _: object) -> None:
        on_break = [f"a{n:03d}" for n in range(round(self.scenario.pause_share * self.scenario.agents))]
        for agent_id in on_break:
            if self.pool.agents[agent_id].state in (AgentState.READY, AgentState.WRAP_UP):
                self.pool.pause(agent_id, now, "break")
            else:
                self._break_after_call.add(agent_id)
        self._at(now + self.scenario.pause_s, "break_over", on_break)

    def _on_break_over(self, now: float, on_break: list[str]) -> None:
        self._break_after_call.clear()
        for agent_id in on_break:
            if self.pool.agents[agent_id].state is AgentState.PAUSED:
                self.pool.ready(agent_id, now)
        self._on_wrap_end(now, None)  # the agents back may take calls already waiting

    def _dial(self, now: float) -> None:
        scenario, rng = self.scenario, self.rng
        self._dials += 1
        live = rng.random() < scenario.rate_at(now)
        machine = not live and rng.random() < scenario.machine_share
        call = _Call(f"c{self._dials}", now, live, machine)
        self._ringing[call.call_id] = call
        delay = rng.uniform(*(scenario.live_ring_s if live or machine else scenario.fail_ring_s))
        self._at(now + delay, "answer" if live or machine else "fail", call)

    def _on_fail(self, now: float, call: _Call) -> None:
        del self._ringing[call.call_id]
        self.policy.on_resolved(now - call.dialled_at, False)

    def _on_answer(self, now: float, call: _Call) -> None:
        del self._ringing[call.call_id]
        call.answered_at = now
        scenario = self.scenario
        if scenario.machine_share or scenario.amd_accuracy < 1.0:
            judged_machine = call.machine if self.rng.random() < scenario.amd_accuracy else not call.machine
            if judged_machine:
                self.policy.on_resolved(now - call.dialled_at, False)
                if call.live:  # a person hung up on: legally an abandoned call
                    self.ledger.record(now, True, call.call_id)
                    self.policy.on_abandoned(now)
                return
            now += scenario.amd_delay_s
        self.policy.on_resolved(now - call.dialled_at, True)
        call.talk_s = scenario.machine_talk_s if call.machine else self.rng.expovariate(1.0 / scenario.talk_mean_at(now))
        if not self._connect(now, call):
            self._waiting[call.call_id] = call
            self._at(now + scenario.no_agent_timeout_s, "timeout", call)

    def _connect(self, now: float, call: _Call) -> bool:
        agent = self.pool.reserve_longest_idle(GROUP, now, call.call_id)
        if agent is None:
            return False
        self.pool.connect(agent.agent_id, now)
        self.ledger.record(call.answered_at, False, call.call_id)
        self._connected += 1
        end = self.scenario.shift_s  # talk counts when put through, so a call still running at the end counts
        self._busy_s += max(0.0, min(now + call.talk_s, end) - now)
        self._at(now + call.talk_s, "hangup", (agent.agent_id, call))
        return True

    def _on_timeout(self, now: float, call: _Call) -> None:
        if self._waiting.pop(call.call_id, None) is not None:
            self.ledger.record(call.answered_at, True, call.call_id)
            self.policy.on_abandoned(now)

    def _on_hangup(self, now: float, payload: tuple[str, _Call]) -> None:
        agent_id, call = payload
        self._busy_s += max(0.0, min(self.scenario.wrap_s, self.scenario.shift_s - now))
        self.pool.hang_up(agent_id, now)
        if agent_id in self._break_after_call:
            self._break_after_call.discard(agent_id)
            self.pool.pause(agent_id, now, "break")
        if not call.machine:
            self.policy.on_talk_ended(call.talk_s)
        self._at(now + self.scenario.wrap_s, "wrap_end", agent_id)

    def _on_wrap_end(self, now: float, agent_id: str | None) -> None:
        agent = self.pool.agents.get(agent_id or "")
        if agent and agent.state is AgentState.WRAP_UP and agent.wrap_until is not None and agent.wrap_until <= now:
            self.pool.tick(now)
        while self._waiting:
            call_id = next(iter(self._waiting))
            if not self._connect(now, self._waiting[call_id]):
                break
            del self._waiting[call_id]


def simulate(scenario: Scenario, policy: PacingPolicy, tick_s: float = 1.0) -> SimResult:
    return CampaignSimulation(scenario, policy, tick_s).run()
