"""A PSTN simulator: one SIP endpoint playing the carrier and every debtor's phone behind it.

Each dialled number gets a persona, scripted per number or drawn from a seeded mix: busy, no answer,
reject, invalid number, unavailable, a person (rings, answers, says a greeting, presses the digits of
its script, hangs up after a while), an answering machine (a long greeting, then a beep, then silence),
or silence. What every simulated debtor heard can be recorded, so a test can check what reached them.
Used by tests, the telephony benchmark and `make demo`.
"""

from __future__ import annotations

import asyncio
import enum
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dialer import leg as legs
from dialer.leg import CallLeg
from dialer.media.clock import MediaClock
from dialer.media.recorder import StereoRecorder
from dialer.media.session import AudioFrame
from audio.wav import read_pcm, tone
from dialer.sip.call import Call
from dialer.sip.headers import uri_user
from dialer.sip.transport import SipTransport
from dialer.sip.uac import UserAgent

VOICES = Path(__file__).parent / "voices"
SPEECH_RMS = 300.0  # louder 20 ms frames count as the far end talking


class Persona(enum.StrEnum):
    PERSON = "person"
    MACHINE = "machine"
    SILENCE = "silence"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECT = "reject"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"


REFUSALS = {Persona.BUSY: (486, "Busy Here"), Persona.REJECT: (603, "Decline"),
            Persona.INVALID: (404, "Not Found"), Persona.UNAVAILABLE: (503, "Service Unavailable")}


@dataclass(frozen=True)
class Script:
    persona: Persona
    ring_s: float = 2.0
    digits: str = ""  # pressed one by one after the greeting
    digit_gap_s: float = 0.4
    talk_s: float = 8.0  # hangs up after this long answered (None: waits for us to hang up)
    no_answer_s: float = 60.0  # a phone nobody picks up gives 480 after this (unless CANCELled first)
    answers: tuple[str, ...] = ()  # key groups typed one by one, each once the far end has stopped talking
    pause_s: float = 0.8  # the silence that means "your turn" (for `answers`)


@dataclass
class SimulatedCall:
    number: str
    persona: Persona
    answered: bool = False
    hung_up_by_debtor: bool = False
    leg: CallLeg | None = None


@dataclass(eq=False)
class PstnSimulator:
    scripts: dict[str, Script] = field(default_factory=dict)
    mix: dict[Persona, float] = field(default_factory=lambda: {Persona.PERSON: 1.0})
    seed: int = 1
    host: str = "127.0.0.1"
    port: int = 0
    time_scale: float = 1.0
    record_heard: Path | None = None  # per call: left what the debtor heard, right what they said
    greeting_voice: Path = VOICES / "debtor-greeting.wav"  # what a person says on answering
    reply_voice: Path | None = None  # what a person then says to the agent, `reply_after_s` after the greeting
    reply_after_s: float = 2.0
    ring_s: tuple[float, float] = (0.5, 3.0)  # how long a drawn person or machine lets it ring
    talk_s: tuple[float, float] = (4.0, 10.0)  # how long a drawn person stays on the line once answered
    calls: list[SimulatedCall] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self.ua = UserAgent(host=self.host, port=self.port, display="pstn", on_incoming=self._incoming,
                            time_scale=self.time_scale)
        self.clock = MediaClock()
        self.greeting = read_pcm(self.greeting_voice)
        self.reply = np.zeros(0, np.int16) if self.reply_voice is None else np.concatenate(
            [np.zeros(int(8000 * self.reply_after_s), np.int16), read_pcm(self.reply_voice)])
        # A machine's line carries its silence while it records (the beep's end is heard by what follows it).
        self.machine = np.concatenate([read_pcm(VOICES / "machine-greeting.wav"), np.zeros(2400, np.int16),
                                       tone(1000.0, 0.5), np.zeros(8000 * 60, np.int16)])

    async def start(self, transport: SipTransport | None = None) -> None:
        """Start on UDP, or on `transport` (a stream transport bound to `self.ua.layer.receive`)."""
        await self.ua.start(transport)

    @property
    def address(self) -> tuple[str, int]:
        return (self.ua.host, self.ua.port)

    def close(self) -> None:
        self.clock.close()
        self.ua.close()

    def script_for(self, number: str) -> Script:
        if number in self.scripts:
            return self.scripts[number]
        personas, weights = zip(*self.mix.items())
        return Script(self._random.choices(personas, weights)[0], ring_s=self._random.uniform(*self.ring_s),
                      talk_s=self._random.uniform(*self.talk_s))

    async def _incoming(self, call: Call) -> None:
        number = uri_user(call.invite.uri)
        script = self.script_for(number)
        record = SimulatedCall(number, script.persona)
        self.calls.append(record)
        if script.persona in REFUSALS:
            await asyncio.sleep(0.05)
            self.ua.invites.reject(call, *REFUSALS[script.persona])
            return
        self.ua.invites.ring(call)
        if script.persona is Persona.NO_ANSWER:
            await self._wait(call, script.no_answer_s)
            self.ua.invites.reject(call, 480, "Temporarily Unavailable")
            return
        if await self._wait(call, script.ring_s):
            return  # cancelled while ringing
        leg = await legs.answer(self.ua, self.clock, call)
        if leg is None:
            return
        record.answered, record.leg = True, leg
        if self.record_heard is not None:
            leg.media.record(StereoRecorder(self.record_heard / f"{number}-{len(self.calls)}.wav"))
        await self._behave(leg, script)
        if not leg.ended.is_set():
            record.hung_up_by_debtor = True
            await self.ua.hang_up(leg.call)

    async def _behave(self, leg: CallLeg, script: Script) -> None:
        if script.persona is Persona.PERSON:
            # A phone sends its line's (near) silence while its owner listens, as real phones do.
            leg.media.play(np.concatenate([self.greeting, self.reply, np.zeros(int(8000 * script.talk_s), np.int16)]))
            if script.answers:
                await self._answer_prompts(leg, script)
            if script.digits:
                await self._wait(leg.call, len(self.greeting) / 8000 + 0.5)
                for digit in script.digits:
                    leg.media.send_digits(digit)
                    await self._wait(leg.call, script.digit_gap_s)
        elif script.persona is Persona.MACHINE:
            leg.media.play(self.machine)
        await self._wait(leg.call, script.talk_s)

    async def _answer_prompts(self, leg: CallLeg, script: Script) -> None:
        """Like a person at a keypad: listen to each prompt to its end, then type the next group. The end
        is `pause_s` without speech, whether the far end sends quiet packets or (between prompts) none."""
        frames = leg.media.frames()
        following: asyncio.Future[AudioFrame] | None = None  # never cancelled: that would end the iterator
        for group in script.answers:
            heard, quiet = False, 0.0
            while not (heard and quiet >= script.pause_s) and not leg.ended.is_set():
                following = following or asyncio.ensure_future(anext(frames))
                done, _ = await asyncio.wait({following}, timeout=script.pause_s)
                if not done:
                    quiet += script.pause_s
                    continue
                try:
                    frame = following.result()
                except StopAsyncIteration:
                    return
                following = None
                loud = float(np.sqrt(np.mean(frame.pcm.astype(np.float64) ** 2))) > SPEECH_RMS
                heard = heard or loud
                quiet = 0.0 if loud else quiet + len(frame.pcm) / 8000
            if leg.ended.is_set():
                return
            leg.media.send_digits(group)

    @staticmethod
    async def _wait(call: Call, seconds: float) -> bool:
        """Sleep, or less if the call ends first; True when it ended."""
        try:
            await asyncio.wait_for(call.ended.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True
