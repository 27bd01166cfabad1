"""A campaign on a simulated floor: the real runner, switchboard, gates and after-call pipeline, with the
PSTN simulator as carrier and debtors and agent bots as agents who talk (TTS): most identify themselves
and give the recording notice and mini-Miranda, some threaten instead, so that screening has something
real to find. `make demo`, the crash test and smoke runs use it.

Answering-machine detection is on, and the call router (campaigns/routing.py) does what serve's does:
machines get the limited-content voicemail after their beep, people the agents (set ready through the
agent desk, as the agent-state API does; they set a disposition after each call, a promise to pay is
stored as a promise in the agent's name) or, on an agentless campaign, the IVR; a person who finds no
agent in time hears the safe-harbour message. Time for the gates is a simulated wall clock, fixed at a lawful hour for the cases' zones (the demo may
run at 3 a.m.; the debtors it calls are fictional, the calling window is not) and printed as such.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from sqlalchemy import select

from audio.wav import read_pcm
from campaigns.aftercall import LocalAfterCall
from campaigns.desk import DEFAULT_GROUP, AgentDesk, Wish
from campaigns.hopper import Hopper
from campaigns.lease import CampaignLease
from campaigns.routing import CallRouter, Messages
from campaigns.runner import CampaignRunner, RunnerConfig, RunSummary
from campaigns.service import segment_from_json
from cases import Store
from cases.models import Campaign, Role, User
from compliance import CampaignFacts, ComplianceGate
from dialer.simulate.agent_bot import BotDispositions
from dialer.simulate.floor import simulated_floor
from dialer.simulate.pstn import VOICES, Persona, PstnSimulator
from dunline.server import policy_for
from ivr.service import IvrService
from speech.tts import PromptRenderer, Prompts

POLITE_LINE = ("Hello, this is Amy from Dunline Credit Services. This call is recorded. This is an attempt to "
               "collect a debt, and any information obtained will be used for that purpose. "
               "Could we agree on a payment plan that works for you?")
RUDE_LINE = "Listen, if you do not pay today the police will come to your house and arrest you."
FLOOR_MIX = {Persona.PERSON: 0.5, Persona.MACHINE: 0.1, Persona.BUSY: 0.15, Persona.NO_ANSWER: 0.12,
             Persona.INVALID: 0.05, Persona.REJECT: 0.05, Persona.SILENCE: 0.03}
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
    ring_s: tuple[float, float] = (4.0, 20.0)  # how long a simulated person or machine lets it ring
    mix: Mapping[Persona, float] = field(default_factory=lambda: dict(FLOOR_MIX))


def floor_messages(renderer: PromptRenderer) -> Messages:
    return Messages(render=lambda prompt, text, language: read_pcm(renderer.render(text, language)),
                    values=COMPANY, company=COMPANY["company"])


def floor_ivr(store: Store, renderer: PromptRenderer, clock: Callable[[], datetime]) -> IvrService:
    prompts = Prompts(renderer)
    return IvrService(store, lambda prompt, text, language: read_pcm(prompts.prompt(prompt, text, language)),
                      clock=clock)


async def run_floor_campaign(store: Store, campaign: Campaign, plan: FloorPlan, *, recordings: Path,
                             clock: Callable[[], datetime], lease: CampaignLease | None = None,
                             on_runner: Callable[[CampaignRunner], None] | None = None) -> RunSummary:
    pstn = PstnSimulator(mix=dict(plan.mix), seed=plan.seed, greeting_voice=VOICES / "debtor-hello.wav",
                         ring_s=plan.ring_s)
    renderer = PromptRenderer(recordings.parent / "prompts")
    rude, polite = (np.concatenate([read_pcm(renderer.render(line, "en")), np.zeros(4000, np.int16)])
                    for line in (RUDE_LINE, POLITE_LINE))
    speeches = [rude if n < plan.rude_agents else polite for n in range(plan.agents)]
    async with simulated_floor(pstn, speeches, recordings=recordings, ring_timeout_s=plan.ring_timeout_s) as board:
        await asyncio.to_thread(ensure_bot_users, store, list(board.agents))
        after_call = None
        if plan.transcribe:
            from compliance.screening import Screener
            from speech.transcribe import Transcriber

            after_call = LocalAfterCall(store, Transcriber("en"), Screener.load())
        segment = segment_from_json(campaign.definition["segment"])
        hopper = Hopper(store, ComplianceGate(store), segment, CampaignFacts(campaign_id=campaign.id))
        group = campaign.agent_group or DEFAULT_GROUP
        config = RunnerConfig(group=group, amd=True, ring_timeout_s=plan.ring_timeout_s, caller_id=campaign.caller_id)
        desk = AgentDesk(board, wrap_s=config.wrap_s, groups_of=lambda agent_id: frozenset({group}))
        for bot in board.agents:
            desk.set_state(bot, Wish.READY)  # as an agent's desktop does through the agent-state API
        router = CallRouter(board=board, store=store, messages=floor_messages(renderer),
                            ivr=floor_ivr(store, renderer, clock), amd_budget_s=config.amd_budget_s)
        runner = CampaignRunner(store=store, campaign=campaign, hopper=hopper, switchboard=board,
                                policy=policy_for(campaign), clock=clock, after_call=after_call, router=router,
                                desk=desk, disposition=BotDispositions(plan.seed), config=config, lease=lease)
        if on_runner is not None:
            on_runner(runner)
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(plan.seconds, stop.set)
        return await runner.run(stop)


def ensure_bot_users(store: Store, names: list[str]) -> None:
    """The agent bots are agents of the floor's database (so attempts and promises name them)."""
    with store.session() as session:
        known = set(session.scalars(select(User.username).where(User.username.in_(names))))
        for name in names:
            if name not in known:
                session.add(User(username=name, display_name=f"agent bot {name}", role=Role.AGENT))
