"""The switchboard: one SIP user agent with its registrar, the trunk, the agents' legs, and the bridges.

It places debtor calls through the trunk (recorded from the answer on), keeps each logged-in agent's leg
up, and connects an answered debtor to an agent by bridging their RTP: no SIP is exchanged at connect
time, so the answer-to-bridge latency is what the process takes to route, not a round trip. When the
debtor hangs up, the bridge is taken down and the agent's leg is idle again, still up.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dialer import leg as legs
from dialer.agent_leg import AgentLeg, AgentTarget, LegState
from dialer.leg import CallLeg
from dialer.media.clock import MediaClock
from dialer.media.recorder import StereoRecorder
from dialer.media.relay import Bridge
from dialer.sip.digest import Credentials
from dialer.sip.registrar import Registrar
from dialer.sip.transport import Address
from dialer.sip.uac import DEFAULT_RING_TIMEOUT_S, UserAgent


@dataclass(frozen=True)
class Trunk:
    host: str
    port: int = 5060
    credentials: Credentials | None = None
    caller_id: str | None = None
    ring_timeout_s: float = DEFAULT_RING_TIMEOUT_S
    min_ring_s: float = 15.0  # the rule pack's minimum: a ring timeout is never shorter

    @property
    def address(self) -> Address:
        return (self.host, self.port)

    def uri(self, number: str) -> str:
        return f"sip:{number}@{self.host}:{self.port}"


@dataclass(eq=False)
class Connection:
    debtor: CallLeg
    agent: AgentLeg
    bridge: Bridge
    latency_s: float
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class Switchboard:
    def __init__(self, *, trunk: Trunk | None = None, host: str = "127.0.0.1", port: int = 0,
                 realm: str = "dunline", password_of: Callable[[str], str | None] = lambda user: None,
                 recordings: Path | None = None, time_scale: float = 1.0) -> None:
        self.trunk = trunk
        self.registrar = Registrar(realm, password_of)
        self.ua = UserAgent(host=host, port=port, display="dunline", time_scale=time_scale,
                            credentials=trunk.credentials if trunk else None, registrar=self.registrar)
        self.clock = MediaClock()
        self.recordings = recordings
        self.agents: dict[str, AgentLeg] = {}
        self.connections: set[Connection] = set()

    async def start(self) -> None:
        await self.ua.start()

    @property
    def address(self) -> Address:
        return (self.ua.host, self.ua.port)

    async def close(self) -> None:
        for agent in list(self.agents.values()):
            await agent.stop()
        self.clock.close()
        self.ua.close()

    # Agents ----------------------------------------------------------------------------------------------------
    def registered(self, user: str) -> AgentTarget | None:
        bindings = self.registrar.lookup(user)
        if not bindings:
            return None
        newest = max(bindings, key=lambda binding: binding.expires_at)
        return AgentTarget(newest.contact, newest.source)

    def login(self, agent_id: str, target: AgentTarget | None = None, *, keepalive_s: float = 30.0) -> AgentLeg:
        """Start the agent's nailed-up leg: to `target`, else to the phone registered as `agent_id`."""
        leg = AgentLeg(agent_id, (lambda: target) if target else (lambda: self.registered(agent_id)), self.ua,
                       self.clock, keepalive_s=keepalive_s)
        self.agents[agent_id] = leg
        leg.start()
        return leg

    async def logout(self, agent_id: str) -> None:
        leg = self.agents.pop(agent_id, None)
        if leg is not None:
            await leg.stop()

    def idle_agents(self) -> list[AgentLeg]:
        return [leg for leg in self.agents.values() if leg.state is LegState.IDLE]

    # Debtors ---------------------------------------------------------------------------------------------------
    async def call_debtor(self, number: str, *, caller_id: str | None = None, ring_timeout: float | None = None,
                          record: bool = True) -> CallLeg:
        if self.trunk is None:
            raise RuntimeError("no trunk configured")
        timeout = max(ring_timeout or self.trunk.ring_timeout_s, self.trunk.min_ring_s)
        recorder = None
        if record and self.recordings is not None:
            recorder = StereoRecorder(self.recordings / f"{uuid.uuid4().hex}.wav")
        return await legs.dial(self.ua, self.clock, self.trunk.uri(number), self.trunk.address,
                               caller_id=caller_id or self.trunk.caller_id, ring_timeout=timeout, recorder=recorder)

    def connect(self, debtor: CallLeg, agent: AgentLeg) -> Connection:
        """Bridge an answered debtor into an idle agent's leg; undone when either side hangs up."""
        if agent.state is not LegState.IDLE or agent.current is None:
            raise RuntimeError(f"agent {agent.agent_id} is {agent.state}, not idle")
        if debtor.ended.is_set():
            raise RuntimeError("the debtor has hung up")
        debtor.media.stop_playback()
        bridge = Bridge(debtor.media.leg, agent.current.media.leg)
        agent.bridged(True)
        connection = Connection(debtor, agent, bridge, time.monotonic() - debtor.answered_at)
        self.connections.add(connection)
        asyncio.get_running_loop().create_task(self._unbridge_when_over(connection, agent.current))
        return connection

    async def _unbridge_when_over(self, connection: Connection, agent_call: CallLeg) -> None:
        debtor_gone = asyncio.ensure_future(connection.debtor.ended.wait())
        agent_gone = asyncio.ensure_future(agent_call.ended.wait())
        await asyncio.wait({debtor_gone, agent_gone}, return_when=asyncio.FIRST_COMPLETED)
        debtor_gone.cancel()
        agent_gone.cancel()
        connection.bridge.unbridge()
        connection.agent.bridged(False)
        connection.ended.set()
        self.connections.discard(connection)
