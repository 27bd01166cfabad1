"""The switchboard: one SIP user agent with its registrar, the trunk, the agents' legs, and the bridges.

It places debtor calls through the trunk (recorded from the answer on), keeps each logged-in agent's leg
up, and connects an answered debtor to an agent by bridging their RTP: no SIP is exchanged at connect
time, so the answer-to-bridge latency is what the process takes to route, not a round trip. When the
debtor hangs up, the bridge is taken down and the agent's leg is idle again, still up.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crypto import MasterKeys, NoMasterKey
from dialer import leg as legs
from dialer.agent_leg import AgentLeg, AgentTarget, LegState
from dialer.latency import LatencyHistogram
from dialer.leg import CallLeg
from dialer.media.clock import MediaClock
from dialer.media.recorder import StereoRecorder
from dialer.media.relay import Bridge
from dialer.media.rtpengine import AnchoredBridge, MediaAnchors, anchorable
from dialer.sip.call import Call
from dialer.sip.digest import Credentials
from dialer.sip.headers import parse_name_addr
from dialer.sip.lockout import AuthLimits
from dialer.sip.ratelimit import ConnectionLimit, SourceRateLimit
from dialer.sip.registrar import Registrar
from dialer.sip.stream import StreamTransport
from dialer.sip.transport import Address, UdpTransport
from dialer.sip.uac import DEFAULT_RING_TIMEOUT_S, UserAgent


@dataclass(frozen=True)
class Trunk:
    host: str
    port: int = 5060
    credentials: Credentials | None = None
    caller_id: str | None = None
    ring_timeout_s: float = DEFAULT_RING_TIMEOUT_S
    min_ring_s: float = 15.0  # the rule pack's minimum: a ring timeout is never shorter
    transport: str = "udp"  # udp, tcp or tls
    tls: ssl.SSLContext | None = None  # how to check the carrier's certificate (default: the system's CAs)
    outbound_proxy: Address | None = None  # every request to the trunk goes there first
    keepalive_s: float = 30.0  # OPTIONS to the trunk this often; 0 turns it off

    @property
    def address(self) -> Address:
        return self.outbound_proxy or (self.host, self.port)

    def uri(self, number: str) -> str:
        suffix = "" if self.transport == "udp" else f";transport={self.transport}"
        return f"sip:{number}@{self.host}:{self.port}{suffix}"


log = logging.getLogger(__name__)


@dataclass(eq=False)
class Connection:
    debtor: CallLeg
    agent: AgentLeg
    bridge: Bridge | AnchoredBridge
    latency_s: float
    context: Mapping[str, Any] = field(default_factory=dict)  # what the agent's screen pops (the IVR's findings)
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class Switchboard:
    def __init__(self, *, trunk: Trunk | None = None, host: str = "127.0.0.1", port: int = 0,
                 realm: str = "dunline", password_of: Callable[[str], str | None] = lambda user: None,
                 recordings: Path | None = None, time_scale: float = 1.0,
                 inbound: Callable[[CallLeg, str], Awaitable[None]] | None = None,
                 auth_limits: AuthLimits = AuthLimits(), rate_limit: SourceRateLimit | None = None,
                 inbound_sources: frozenset[Address] = frozenset(), tls: ssl.SSLContext | None = None,
                 tls_port: int = 5061, connection_limit: ConnectionLimit | None = None,
                 agent_proxy: Address | None = None, keys: MasterKeys | None = None,
                 anchors: MediaAnchors | None = None) -> None:
        """`rate_limit`: per source host, on the SIP sockets (UDP, TCP, TLS); `connection_limit`: per source
        host, on the TCP and TLS listeners; `inbound_sources`: where a carrier's INVITEs may
        come from besides the trunk's address (see `admits`); `tls`: the server certificate of a SIP-over-TLS
        listener on `tls_port` for agents' phones (RFC 3261 §26), whose legs are then called back on the
        phone's own connection and keyed for SRTP; `agent_proxy`: the SIP front agents' phones register with
        in a cluster (kamailio), where an agent not registered here is called as sip:<agent>@front; `keys`: the
        master keys the recordings are sealed with as they are written (none: plain WAVs); `anchors`: rtpengine,
        where the media of plain-RTP legs is anchored, bridged and recorded (none: all of it in this process)."""
        self.trunk, self.agent_proxy = trunk, agent_proxy
        self.rate_limit, self.connection_limit = rate_limit, connection_limit
        self.inbound_sources = inbound_sources | ({trunk.address} if trunk is not None else set())
        self.registrar = Registrar(realm, password_of, limits=auth_limits)
        self.inbound = inbound  # (answered leg, caller's number): debtors calling us back, e.g. into the IVR
        self.ua = UserAgent(host=host, port=port, display="dunline", time_scale=time_scale,
                            credentials=trunk.credentials if trunk else None, registrar=self.registrar,
                            on_incoming=self._incoming if inbound else None)
        # The agents' phones speak UDP to our registrar; a TCP or TLS trunk gets a user agent of its own.
        self.trunk_ua = self.ua
        if trunk is not None and trunk.transport != "udp":
            self.trunk_ua = UserAgent(host=host, display="dunline", time_scale=time_scale,
                                      credentials=trunk.credentials)
        # Phones registered over TLS share the registrar; their legs go out on the listener's connections.
        self.tls_context, self.tls_ua = tls, None
        if tls is not None:
            self.tls_ua = UserAgent(host=host, port=tls_port, display="dunline", time_scale=time_scale,
                                    registrar=self.registrar)
        self.clock = MediaClock()
        self.recordings, self.keys, self.anchors = recordings, keys, anchors
        self.agents: dict[str, AgentLeg] = {}
        self.connections: set[Connection] = set()
        self.bridge_latency = LatencyHistogram()  # answer-to-bridge of every connection (GET /api/metrics)
        self.trunk_alive: bool | None = None  # None until the first keep-alive has been answered or not
        self._keepalive: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.ua.start(await UdpTransport.bind(self.ua.host, self.ua.port, self.ua.layer.receive,
                                                    limit=self.rate_limit))
        if self.tls_ua is not None:
            await self.tls_ua.start(await StreamTransport.bind(
                self.tls_ua.host, self.tls_ua.port, self.tls_ua.layer.receive, ssl_context=self.tls_context,
                limit=self.rate_limit, connection_limit=self.connection_limit))
        if self.trunk is None:
            return
        if self.trunk_ua is not self.ua:
            client_ssl = (self.trunk.tls or ssl.create_default_context()) if self.trunk.transport == "tls" else None
            await self.trunk_ua.start(await StreamTransport.bind(
                self.ua.host, 0, self.trunk_ua.layer.receive, client_ssl=client_ssl, limit=self.rate_limit,
                connection_limit=self.connection_limit))
        if self.trunk.keepalive_s > 0:
            self._keepalive = asyncio.get_running_loop().create_task(self._keep_trunk_alive(self.trunk))

    async def _keep_trunk_alive(self, trunk: Trunk) -> None:
        """OPTIONS to the trunk every `keepalive_s` (RFC 3261 §11): a dead trunk shows before calls fail."""
        while True:
            alive = await self.trunk_ua.ping(trunk.address, timeout=min(5.0, trunk.keepalive_s))
            if alive != self.trunk_alive:
                log.log(logging.INFO if alive else logging.WARNING, "trunk %s:%s is %s", trunk.host, trunk.port,
                        "answering" if alive else "not answering")
            self.trunk_alive = alive
            await asyncio.sleep(trunk.keepalive_s)

    @property
    def address(self) -> Address:
        return (self.ua.host, self.ua.port)

    async def close(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
        for agent in list(self.agents.values()):
            await agent.stop()
        self.clock.close()
        if self.anchors is not None:
            self.anchors.close()
        self.registrar.close()
        self.ua.close()
        if self.trunk_ua is not self.ua:
            self.trunk_ua.close()
        if self.tls_ua is not None:
            self.tls_ua.close()

    # Agents ----------------------------------------------------------------------------------------------------
    def registered(self, user: str) -> AgentTarget | None:
        """Where `user`'s phone is: registered here, else at the cluster's SIP front (None: nowhere known)."""
        bindings = self.registrar.lookup(user)
        if not bindings:
            if self.agent_proxy is None:
                return None
            host, port = self.agent_proxy
            return AgentTarget(f"sip:{user}@{host}:{port}", self.agent_proxy)
        newest = max(bindings, key=lambda binding: binding.expires_at)
        return AgentTarget(newest.contact, newest.source, newest.transport)

    def login(self, agent_id: str, target: AgentTarget | None = None, *, keepalive_s: float = 30.0) -> AgentLeg:
        """Start the agent's nailed-up leg: to `target`, else to the phone registered as `agent_id`."""
        leg = AgentLeg(agent_id, (lambda: target) if target else (lambda: self.registered(agent_id)), self.ua,
                       self.clock, keepalive_s=keepalive_s, secure_ua=self.tls_ua,
                       anchors=self.anchors.new if self.anchors is not None else None)
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
    def admits(self, source: Address) -> bool:
        """Whether an INVITE from `source` may be answered: a carrier's (the trunk's address or a configured
        inbound source) or a registered phone's. A stranger's is refused 403 before anything answers it, so
        no INVITE from outside reaches the IVR, an agent or the trunk (toll fraud)."""
        return source in self.inbound_sources or any(
            binding.source == source for user in list(self.registrar.bindings) for binding in self.registrar.lookup(user))

    async def _incoming(self, call: Call) -> None:
        """An inbound call: answered, recorded like any other, and handed to `inbound` with the caller's
        number (the From user part, as the carrier sends it). A stranger's is refused (`admits`)."""
        assert self.inbound is not None
        if not self.admits(call.peer):
            log.warning("INVITE from %s:%s refused 403: neither a carrier nor a registered phone", *call.peer)
            self.ua.invites.reject(call, 403, "Forbidden")
            return
        leg = await legs.answer(self.ua, self.clock, call)
        if leg is None:
            return
        if self.recordings is not None:
            leg.media.record(self._recorder(self.recordings / f"{uuid.uuid4().hex}.wav"))
        caller = parse_name_addr(call.invite.get("From") or "").user
        await self.inbound(leg, caller)

    async def call_debtor(self, number: str, *, caller_id: str | None = None, ring_timeout: float | None = None,
                          record: bool = True, recording: Path | None = None) -> CallLeg:
        """`recording`: where the recording goes (the caller links it to its attempt before the INVITE);
        default, a fresh name under `recordings`."""
        if self.trunk is None:
            raise RuntimeError("no trunk configured")
        timeout = max(ring_timeout or self.trunk.ring_timeout_s, self.trunk.min_ring_s)
        recorder = None
        if record and self.recordings is not None:
            recorder = self._recorder(recording or self.recordings / f"{uuid.uuid4().hex}.wav")
        anchor = self.anchors.new(record=recorder is not None) if self.anchors is not None else None
        leg = await legs.dial(self.trunk_ua, self.clock, self.trunk.uri(number), self.trunk.address,
                              caller_id=caller_id or self.trunk.caller_id, ring_timeout=timeout, recorder=recorder,
                              anchor=anchor, finish=self._finish_anchored if anchor is not None else None)
        if anchor is not None and not leg.answered:
            self._drop_capture(leg)
        elif anchor is not None and recorder is not None:
            recorder.start()  # from the answer: the audio may never pass here (bridged in rtpengine at once)
        return leg

    async def _finish_anchored(self, leg: CallLeg) -> None:
        """An anchored debtor call is over: free it in rtpengine, then make its recording from rtpengine's
        capture (the whole call, bridged part included), in place of what this process heard of it."""
        assert self.anchors is not None and leg.anchor is not None
        ended_at = time.time()  # the recording runs from the answer to here, as the one made here does
        answered_at = ended_at - (time.monotonic() - leg.answered_at)
        await leg.anchor.close()
        live = leg.media.recorder
        capture = self.anchors.capture(leg.anchor)
        if live is None or capture is None:
            self._drop_capture(leg)
            return
        try:
            await self.anchors.replays.record(capture, leg.anchor.sides, live.path, live.keyring, answered_at,
                                              ended_at)
        except (OSError, ValueError) as error:  # what this process recorded stays the recording
            log.error("rtpengine's capture of %s not used: %s", live.path.name, error)
        self._drop_capture(leg)

    def _drop_capture(self, leg: CallLeg) -> None:
        """rtpengine's capture holds the call's audio in clear: gone once used (or when there is no call)."""
        if self.anchors is not None and leg.anchor is not None and (capture := self.anchors.capture(leg.anchor)):
            capture.unlink(missing_ok=True)

    def _recorder(self, path: Path) -> StereoRecorder:
        """A recorder sealing as it writes, at `path`'s sealed name, with the current master key (read at each
        call: a rotation reaches the next one). Keys configured but unreadable: recorded plain, loudly, for the
        after-call step to seal (a call's recording is evidence; failing the call would lose it)."""
        if self.keys is None:
            return StereoRecorder(path)
        try:
            return StereoRecorder(path, keyring=self.keys.keyring())
        except (NoMasterKey, OSError, ValueError) as error:
            log.error("recording %s written unencrypted until its call is over: %s", path.name, error)
            return StereoRecorder(path)

    def connect(self, debtor: CallLeg, agent: AgentLeg, context: Mapping[str, Any] | None = None) -> Connection:
        """Bridge an answered debtor into an idle agent's leg; undone when either side hangs up."""
        if agent.state is not LegState.IDLE or agent.current is None:
            raise RuntimeError(f"agent {agent.agent_id} is {agent.state}, not idle")
        if debtor.ended.is_set():
            raise RuntimeError("the debtor has hung up")
        debtor.media.stop_playback()
        ours, theirs = debtor.media.leg, agent.current.media.leg
        bridge: Bridge | AnchoredBridge
        if anchorable(ours, theirs, debtor.anchor, agent.current.anchor):
            assert debtor.anchor is not None and agent.current.anchor is not None
            bridge = AnchoredBridge(ours, theirs, debtor.anchor, agent.current.anchor)
        else:
            bridge = Bridge(ours, theirs)
        agent.bridged(True)
        connection = Connection(debtor, agent, bridge, time.monotonic() - debtor.answered_at, dict(context or {}))
        self.connections.add(connection)
        loop = asyncio.get_running_loop()
        if isinstance(bridge, AnchoredBridge):  # connected when rtpengine has re-pointed both legs
            bridge.ready.add_done_callback(lambda ready: ready.cancelled() or self._connected(connection))
        else:
            self._connected(connection)
        loop.create_task(self._unbridge_when_over(connection, agent.current))
        return connection

    def _connected(self, connection: Connection) -> None:
        connection.latency_s = time.monotonic() - connection.debtor.answered_at
        self.bridge_latency.record(connection.latency_s)

    def transfer_to_agent(self, debtor: CallLeg, context: Mapping[str, Any] | None = None) -> Connection | None:
        """Hand a call (from the IVR) to the longest-connected idle agent, with what is known about it;
        None when no agent is free (the caller decides: hold music, callback offer, safe-harbour)."""
        idle = self.idle_agents()
        if not idle:
            return None
        return self.connect(debtor, idle[0], context)

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
