"""A softphone for agents in demos and tests: registers, auto-answers its nailed-up leg, talks, records.

It registers `user` with digest credentials to the switchboard's registrar (and refreshes before expiry),
answers every INVITE, and says its speech from the top to each debtor bridged into its leg (it knows one
has arrived when audio comes after a silence of the line), and records each leg: left what it heard (the
bridged debtors), right what it said.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dialer import leg as legs
from dialer.leg import CallLeg
from dialer.media.clock import MediaClock
from dialer.media.recorder import StereoRecorder
from dialer.media.rtp import RtpPacket
from audio.wav import read_pcm
from dialer.simulate.pstn import VOICES
from dialer.sip.call import Call
from dialer.sip.digest import Credentials
from dialer.sip.transport import Address
from dialer.sip.uac import UserAgent

NEW_CALLER_GAP_S = 1.0  # packets after this long without any mean someone new is on the line


@dataclass(eq=False)
class AgentBot:
    user: str
    password: str
    registrar: Address
    speech: np.ndarray = field(default_factory=lambda: read_pcm(VOICES / "agent-speech.wav"))
    record_to: Path | None = None
    expires_s: int = 300
    time_scale: float = 1.0
    legs: list[CallLeg] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ua = UserAgent(display=self.user, credentials=Credentials(self.user, self.password),
                            on_incoming=self._answer, time_scale=self.time_scale)
        self.clock = MediaClock()
        self._refresh: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Start and register; False when the registrar refused or did not answer."""
        await self.ua.start()
        if not await self.register():
            return False
        self._refresh = asyncio.get_running_loop().create_task(self._keep_registered())
        return True

    async def register(self, expires: int | None = None) -> bool:
        response = await self.ua.register(self.registrar, self.user, self.expires_s if expires is None else expires)
        return response is not None and response.status == 200

    async def _keep_registered(self) -> None:
        while True:
            await asyncio.sleep(self.expires_s * 0.8)
            await self.register()

    async def close(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
        for leg in self.legs:
            await self.ua.hang_up(leg.call, timeout=2.0)
        self.clock.close()
        self.ua.close()

    async def _answer(self, call: Call) -> None:
        leg = await legs.answer(self.ua, self.clock, call)
        if leg is None:
            return
        self.legs.append(leg)
        if self.record_to is not None:
            leg.media.record(StereoRecorder(self.record_to / f"{self.user}-{len(self.legs)}.wav"))
        caller = asyncio.Event()
        last_packet = [0.0]

        def packet_in(packet: RtpPacket) -> None:
            now = time.monotonic()
            if now - last_packet[0] > NEW_CALLER_GAP_S:
                caller.set()  # audio after a silence on the line: a debtor has been bridged in
            last_packet[0] = now
        leg.media.leg.listeners.append(packet_in)
        ended = asyncio.ensure_future(leg.ended.wait())
        while not leg.ended.is_set():
            arrived = asyncio.ensure_future(caller.wait())
            await asyncio.wait({arrived, ended}, return_when=asyncio.FIRST_COMPLETED)
            arrived.cancel()
            caller.clear()
            leg.media.stop_playback()
            leg.media.play(self.speech)  # from the top, for each new caller


DISPOSITIONS = (("promise_to_pay", 0.3), ("callback", 0.2), ("refused", 0.2), ("hardship", 0.15), ("wrong_party", 0.15))


@dataclass
class BotDispositions:
    """What agent bots record after each call: a seeded draw, as a floor of people would vary."""

    seed: int = 1
    weights: tuple[tuple[str, float], ...] = DISPOSITIONS

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def __call__(self, agent_id: str) -> str:
        return self._random.choices([d for d, _ in self.weights], [w for _, w in self.weights])[0]
