"""Where an answered call goes, as one object: answering-machine detection, then a machine gets the
limited-content voicemail after its beep (or is hung up on), a person the IVR (agentless campaigns) or an
agent (the runner reserves one on the agent desk), and a person no agent took in time the safe-harbour
message, whose opt-out key places a cease hold on the number.

One detector is carried from the detection to the voicemail: it has heard the machine's greeting, so it
knows the beep when it comes instead of starting over (a fresh detector would first have to hear a
greeting again and could miss a beep that ends the greeting it never heard).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

from cases import Store
from cases.models import HoldKind
from compliance import place_hold
from dialer.leg import CallLeg
from dialer.sip.headers import uri_user
from dialer.switchboard import Switchboard
from ivr.delivery import RenderText, safe_harbour, voicemail_after_beep
from ivr.service import IvrService
from speech.amd import AmdDetector, Verdict

AMD_BUDGET_S = 3.5  # past this without a verdict the call is taken for a person: nobody is hung up on a guess


@dataclass(frozen=True)
class Messages:
    """The required messages' text values (company, callback phone, person) and how prompts are rendered."""

    render: RenderText
    values: Mapping[str, str]
    company: str
    language: str = "en"


@dataclass(frozen=True)
class Detection:
    machine: bool
    detector: AmdDetector


class CallRouter:
    def __init__(self, *, board: Switchboard, store: Store, messages: Messages | None = None,
                 ivr: IvrService | None = None, amd_budget_s: float = AMD_BUDGET_S) -> None:
        self.board, self.store, self.messages, self.ivr, self.amd_budget_s = board, store, messages, ivr, amd_budget_s

    async def detect(self, debtor: CallLeg) -> Detection:
        """Listen to the answered call until the detector decides, or the budget runs out (a person)."""
        detector = AmdDetector()
        frames = debtor.media.frames()
        deadline = time.monotonic() + self.amd_budget_s
        try:
            while time.monotonic() < deadline and not debtor.ended.is_set():
                try:
                    frame = await asyncio.wait_for(anext(frames), max(0.01, deadline - time.monotonic()))
                except (asyncio.TimeoutError, StopAsyncIteration):
                    break
                verdict = detector.feed(frame.pcm)
                if verdict is not None:
                    return Detection(verdict.kind in (Verdict.MACHINE, Verdict.MACHINE_BEEP), detector)
        finally:
            await frames.aclose()
        return Detection(False, detector)

    async def machine(self, debtor: CallLeg, detection: Detection) -> None:
        if self.messages is None:
            await self.hang_up(debtor)
            return
        m = self.messages
        await voicemail_after_beep(debtor, m.render, m.values, m.language, company=m.company,
                                   hang_up=lambda: self.hang_up(debtor), detector=detection.detector)

    async def self_service(self, debtor: CallLeg, account_id: int, number: str) -> None:
        """An agentless campaign's person: the IVR flow, for the case the call was placed for."""
        if self.ivr is None:
            await self.hang_up(debtor)
            return
        await self.ivr.handle(debtor, hang_up=lambda: self.hang_up(debtor), caller=number, account_id=account_id)

    async def abandon(self, debtor: CallLeg) -> None:
        """No agent in time: the safe-harbour message (with its opt-out), or a hang-up without messages."""
        if debtor.ended.is_set():
            return
        if self.messages is None:
            await self.hang_up(debtor)
            return
        m = self.messages
        await safe_harbour(debtor, m.render, m.values, m.language, hang_up=lambda: self.hang_up(debtor),
                           opt_out=lambda: asyncio.to_thread(self._cease, debtor))

    def _cease(self, debtor: CallLeg) -> None:
        with self.store.session() as session:
            place_hold(session, kind=HoldKind.CEASE, actor="dialer", source="safe_harbour",
                       e164="+" + uri_user(debtor.call.invite.uri).lstrip("+"))

    async def hang_up(self, debtor: CallLeg) -> None:
        if not debtor.ended.is_set():
            await self.board.trunk_ua.hang_up(debtor.call)
