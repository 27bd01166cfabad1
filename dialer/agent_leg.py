"""An agent's nailed-up leg: one call to the agent's softphone that stays up the whole shift.

On login the switchboard calls the agent's registered contact (or a configured SIP URI, e.g. through
kamailio); debtor calls are then bridged into this leg and unbridged from it, with no new SIP call per
debtor, which is what makes a connect take milliseconds instead of a ring. The leg is checked with an
in-dialog OPTIONS every `keepalive_s` (and, anchored in rtpengine, asked for there: an rtpengine restarted or
timed out has dropped its media); when it drops (BYE, 481, no answer) it is called again after a back-off, for
as long as the agent is logged in.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from dialer import leg as legs
from dialer.leg import CallLeg
from dialer.media.clock import MediaClock
from dialer.media.rtpengine import Anchor, RtpEngineError
from dialer.sip.transport import Address
from dialer.sip.uac import UserAgent

log = logging.getLogger(__name__)
KEEPALIVE_S = 30.0
RETRY_S = (1.0, 2.0, 5.0, 10.0, 30.0)


class LegState(enum.StrEnum):
    DOWN = "down"
    CONNECTING = "connecting"
    IDLE = "idle"
    BRIDGED = "bridged"


@dataclass(frozen=True)
class AgentTarget:
    """Where the agent's phone is: a SIP URI and the address to send the INVITE to."""

    uri: str
    peer: Address
    transport: str = "UDP"  # TLS: a phone registered over TLS, called back on its connection with SRTP


@dataclass(eq=False)
class AgentLeg:
    agent_id: str
    locate: Callable[[], AgentTarget | None]  # the registrar's binding now, or a configured URI
    ua: UserAgent
    clock: MediaClock
    keepalive_s: float = KEEPALIVE_S
    ring_timeout_s: float = 20.0
    state: LegState = LegState.DOWN
    current: CallLeg | None = None
    established: int = 0  # how many times the leg was (re)established this shift
    up: asyncio.Event = field(default_factory=asyncio.Event)
    on_state: Callable[[AgentLeg], None] | None = None
    secure_ua: UserAgent | None = None  # the TLS listener's user agent, for phones registered over TLS
    anchors: Callable[[], Anchor] | None = None  # media through rtpengine (not for SRTP legs); None: here
    _task: asyncio.Task[None] | None = None
    _ua: UserAgent = field(init=False)  # the user agent of the current call

    def __post_init__(self) -> None:
        self._ua = self.ua

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.current is not None:
            await self._ua.hang_up(self.current.call)
        self._set(LegState.DOWN)

    def _set(self, state: LegState) -> None:
        self.state = state
        if state in (LegState.IDLE, LegState.BRIDGED):
            self.up.set()
        else:
            self.up.clear()
        if self.on_state is not None:
            self.on_state(self)

    def bridged(self, yes: bool) -> None:
        if self.current is not None and not self.current.ended.is_set():
            self._set(LegState.BRIDGED if yes else LegState.IDLE)

    async def _run(self) -> None:
        failures = 0
        while True:
            target = self.locate()
            if target is None:
                log.info("agent %s has no registered phone yet", self.agent_id)
            else:
                self._set(LegState.CONNECTING)
                secure = target.transport == "TLS" and self.secure_ua is not None
                self._ua = self.secure_ua if secure and self.secure_ua is not None else self.ua
                current = await self._dial(target, secure)
                if current is not None and current.answered:
                    failures = 0
                    self.current, self.established = current, self.established + 1
                    self._set(LegState.IDLE)
                    await self._keep(current)
                    self.current = None
                    log.info("agent %s leg dropped; calling again", self.agent_id)
                elif current is not None:
                    log.info("agent %s leg not answered: %s %s", self.agent_id, current.result, current.code)
            self._set(LegState.DOWN)
            await asyncio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)] * self.ua.layer.time_scale)
            failures += 1

    async def _dial(self, target: AgentTarget, secure: bool) -> CallLeg | None:
        anchor = self.anchors() if self.anchors is not None and not secure else None
        try:
            return await legs.dial(self._ua, self.clock, target.uri, target.peer, caller_id="dunline",
                                   ring_timeout=self.ring_timeout_s, secure=secure, anchor=anchor,
                                   finish=_free_anchor)
        except RtpEngineError as error:
            log.warning("agent %s leg not placed: %s", self.agent_id, error)
            return None

    async def _keep(self, current: CallLeg) -> None:
        """Until the leg is gone: wait for its end, probing it every `keepalive_s`."""
        while not current.ended.is_set():
            try:
                await asyncio.wait_for(current.ended.wait(), self.keepalive_s)
            except asyncio.TimeoutError:
                anchored = current.anchor is None or await current.anchor.alive()
                if not anchored or not await self._ua.ping_dialog(current.call):
                    await self._ua.hang_up(current.call, timeout=2.0)
                    current.ended.set()


async def _free_anchor(leg: CallLeg) -> None:
    if leg.anchor is not None:
        await leg.anchor.close()
