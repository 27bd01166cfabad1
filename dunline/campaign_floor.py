"""A campaign on a simulated floor: the real runner, switchboard, gates and after-call pipeline, with the
PSTN simulator as carrier and debtors and agent bots as agents who talk (TTS): most identify themselves
and give the recording notice and mini-Miranda, some threaten instead, so that screening has something
real to find. `make demo`, the crash test and smoke runs use it.

Answering-machine detection is on: machines get the limited-content voicemail after their beep, people
the agents (who set a disposition after each call; a promise to pay is stored as a promise), and a person
who finds no agent in time hears the safe-harbour message. Time for the gates is a simulated wall clock, fixed at a lawful hour for the cases' zones (the demo may
run at 3 a.m.; the debtors it calls are fictional, the calling window is not) and printed as such.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from campaigns.aftercall import AfterCall
from campaigns.hopper import Hopper
from campaigns.lease import CampaignLease
from campaigns.runner import CampaignRunner, RunnerConfig, RunSummary
from campaigns.service import segment_from_json
from cases import Store
from cases.models import Campaign, HoldKind
from compliance import CampaignFacts, ComplianceGate, place_hold
from dialer.leg import CallLeg
from audio.wav import read_pcm
from dialer.pacing import DialMode, PacingPolicy, PredictiveConfig, pacer_for
from dialer.simulate.floor import simulated_floor
from dialer.simulate.pstn import VOICES, Persona, PstnSimulator
from dialer.sip.headers import uri_user
from ivr.delivery import safe_harbour, voicemail_after_beep
from speech.tts import PromptRenderer

POLITE_LINE = ("Hello, this is Amy from Dunline Credit Services. This call is recorded. This is an attempt to "
               "collect a debt, and any information obtained will be used for that purpose. "
               "Could we agree on a payment plan that works for you?")
RUDE_LINE = "Listen, if you do not pay today the police will come to your house and arrest you."
FLOOR_MIX = {Persona.PERSON: 0.5, Persona.MACHINE: 0.1, Persona.BUSY: 0.15, Persona.NO_ANSWER: 0.12,
             Persona.INVALID: 0.05, Persona.REJECT: 0.05, Persona.SILENCE: 0.03}
DISPOSITIONS = (("promise_to_pay", 0.3), ("callback", 0.2), ("refused", 0.2), ("hardship", 0.15), ("wrong_party", 0.15))
COMPANY = {"company": "Dunline Services", "phone": "four zero zero, eight zero zero, one two three four",
           "person": "Amy"}


@dataclass(frozen=True)
class FloorPlan:
    agents: int = 5
    rude_agents: int = 1
    seconds: float = 60.0
    seed: int = 1
    ring_timeout_s: float = 25.0
    transcribe: bool = True


def policy_for(campaign: Campaign) -> PacingPolicy:
    return pacer_for(DialMode(campaign.dial_mode), lines_per_agent=float(campaign.definition.get("lines_per_agent", 2)),
                     predictive=PredictiveConfig(target=campaign.abandon_target))


async def run_floor_campaign(store: Store, campaign: Campaign, plan: FloorPlan, *, recordings: Path,
                             clock: Callable[[], datetime], lease: CampaignLease | None = None,
                             on_runner: Callable[[CampaignRunner], None] | None = None) -> RunSummary:
    pstn = PstnSimulator(mix=FLOOR_MIX, seed=plan.seed, greeting_voice=VOICES / "debtor-hello.wav", ring_s=(4.0, 20.0))
    renderer = PromptRenderer(recordings.parent / "prompts")
    rude, polite = (np.concatenate([read_pcm(renderer.render(line, "en")), np.zeros(4000, np.int16)])
                    for line in (RUDE_LINE, POLITE_LINE))
    speeches = [rude if n < plan.rude_agents else polite for n in range(plan.agents)]
    async with simulated_floor(pstn, speeches, recordings=recordings, ring_timeout_s=plan.ring_timeout_s) as board:
        after_call = None
        if plan.transcribe:
            from compliance.screening import Screener
            from speech.transcribe import Transcriber

            after_call = AfterCall(store, Transcriber("en"), Screener.load())
        segment = segment_from_json(campaign.definition["segment"])
        hopper = Hopper(store, ComplianceGate(store), segment, CampaignFacts(campaign_id=campaign.id))
        def render(prompt: str, text: str, language: str) -> np.ndarray:
            return read_pcm(renderer.render(text, language))

        async def voicemail(leg: CallLeg) -> None:
            await voicemail_after_beep(leg, render, COMPANY, "en", company=COMPANY["company"],
                                       hang_up=lambda: board.ua.hang_up(leg.call))

        async def safe_harbour_message(leg: CallLeg) -> None:
            async def opt_out() -> None:
                with store.session() as session:
                    place_hold(session, kind=HoldKind.CEASE, actor="dialer", source="safe_harbour",
                               e164="+" + uri_user(leg.call.invite.uri).lstrip("+"))
            await safe_harbour(leg, render, COMPANY, "en", hang_up=lambda: board.ua.hang_up(leg.call), opt_out=opt_out)

        agent_choices = random.Random(plan.seed)
        runner = CampaignRunner(store=store, campaign=campaign, hopper=hopper, switchboard=board,
                                policy=policy_for(campaign), clock=clock, after_call=after_call,
                                voicemail=voicemail, safe_harbour=safe_harbour_message,
                                disposition=lambda agent_id: agent_choices.choices(
                                    [d for d, _ in DISPOSITIONS], [w for _, w in DISPOSITIONS])[0],
                                config=RunnerConfig(group=campaign.agent_group or "collectors", amd=True,
                                                    ring_timeout_s=plan.ring_timeout_s, caller_id=campaign.caller_id),
                                lease=lease)
        if on_runner is not None:
            on_runner(runner)
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(plan.seconds, stop.set)
        return await runner.run(stop)
