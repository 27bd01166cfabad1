"""A campaign on a simulated floor (`dunline campaign run --simulated`, `make demo`, the crash test): the very
server `dunline serve` runs (dunline.server.Server, hosting just this campaign), whose trunk's far end is the
PSTN simulator (a seeded mix of people, machines, busy lines, bad numbers) and whose phones are agent bots:
live and simulated differ only in which peers answer.

The bots are agents of the floor's database (users bot1..botN, role agent, created if missing, so attempts,
promises and findings name them); they register over SIP with their derived passwords and are set ready
through the agent desk, as an agent's desktop does through the agent-state API. They talk (TTS,
dialer/simulate/speakers.py) in the campaign's language (Mandarin for a Mandarin campaign, else English), as
the simulated people answer: most identify themselves and give the recording notice, some threaten
instead, so that screening has something real to find; after each call they record a seeded disposition (BotDispositions).
Recordings go to the server's transcription workers like any served call's. Time for the gates is the
caller's clock, which a demo shifts to a lawful hour for the cases' zones (the demo may run at 3 a.m.; the
debtors it calls are fictional, the calling window is not).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

from campaigns.attempts import queued_aftercalls
from campaigns.desk import Wish
from campaigns.language import campaign_language
from campaigns.runner import CampaignRunner, RunSummary
from cases import Store
from cases.models import Campaign, Role, User
from dialer.simulate.agent_bot import AgentBot, BotDispositions
from dialer.simulate.pstn import Persona, PstnSimulator
from dialer.simulate.speakers import agent_speeches, greeting
from dunline.redis_server import connect_async
from dunline.server import Server
from dunline.settings import Settings
from dunline.telephony import agent_sip_password
from dunline.workers import WorkerSupervisor
from speech.tts import PromptRenderer

FLOOR_MIX = {Persona.PERSON: 0.5, Persona.MACHINE: 0.1, Persona.BUSY: 0.15, Persona.NO_ANSWER: 0.12,
             Persona.INVALID: 0.05, Persona.REJECT: 0.05, Persona.SILENCE: 0.03}
AFTERCALL_WAIT_S = 120.0  # how long a run waits, once it stops dialling, for its calls to be screened
FOLLOW_S = 0.1


@dataclass(frozen=True)
class FloorPlan:
    agents: int = 5
    rude_agents: int = 1
    seconds: float = 60.0
    seed: int = 1
    transcribe: bool = True
    ring_s: tuple[float, float] = (4.0, 20.0)  # how long a simulated person or machine lets it ring
    mix: Mapping[Persona, float] = field(default_factory=lambda: dict(FLOOR_MIX))


def bot_names(count: int) -> list[str]:
    return [f"bot{n}" for n in range(1, count + 1)]


def ensure_bot_users(store: Store, names: list[str]) -> None:
    """The agent bots are agents of the floor's database (so attempts and promises name them)."""
    with store.session() as session:
        known = set(session.scalars(select(User.username).where(User.username.in_(names))))
        for name in names:
            if name not in known:
                session.add(User(username=name, display_name=f"agent bot {name}", role=Role.AGENT))


def floor_language(campaign: Campaign) -> str:
    """What the floor's people speak: the campaign's language (campaigns/language.py), else English."""
    return campaign_language(campaign.definition) or "en"


def floor_voices(prompts: Path, plan: FloorPlan, language: str) -> tuple[Path, list[np.ndarray]]:
    """The simulated people's greeting and each agent bot's speech, in `language`."""
    renderer = PromptRenderer(prompts)
    return greeting(renderer, language), agent_speeches(renderer, language, plan.agents, plan.rude_agents)


def floor_settings(settings: Settings, trunk: tuple[str, int]) -> Settings:
    """The settings with the PSTN simulator as the trunk and SIP on a free loopback port."""
    return settings.model_copy(update={
        "trunk_host": trunk[0], "trunk_port": trunk[1], "trunk_transport": "udp", "trunk_username": None,
        "trunk_password": None, "trunk_outbound_proxy": None, "sip_host": "127.0.0.1", "sip_port": 0})


def aftercalls_waiting(store: Store, campaign_id: int) -> int:
    with store.reading() as session:
        return len(queued_aftercalls(session, campaign_id=campaign_id, limit=None))


async def run_simulated(settings: Settings, store: Store, campaign: Campaign, plan: FloorPlan, *, redis_url: str,
                        clock: Callable[[], datetime], owner: str | None = None,
                        on_runner: Callable[[CampaignRunner], None] = lambda runner: None,
                        on_wait: Callable[[int], None] = lambda waiting: None) -> RunSummary:
    """Run `campaign` (running, its lease free or `owner`'s) on a simulated floor for `plan.seconds` or until
    it has nothing left to dial; then, when transcribing, wait (at most AFTERCALL_WAIT_S, `on_wait` told how
    many) for its calls' after-call jobs; the runner's summary."""
    hello, speeches = await asyncio.to_thread(floor_voices, settings.data_dir / "prompts", plan,
                                              floor_language(campaign))
    pstn = PstnSimulator(mix=dict(plan.mix), seed=plan.seed, greeting_voice=hello, ring_s=plan.ring_s)
    await pstn.start()
    floor = floor_settings(settings, pstn.address)
    names = bot_names(plan.agents)
    await asyncio.to_thread(ensure_bot_users, store, names)
    redis_client = connect_async(redis_url)
    server = Server(settings=floor, store=store, redis_client=redis_client, clock=clock,
                    workers=WorkerSupervisor(floor, redis_url=redis_url) if plan.transcribe else None,
                    disposition=BotDispositions(plan.seed), only=frozenset({campaign.id}), owner=owner, http=False)
    bots: list[AgentBot] = []
    try:
        await server.start()
        for name, speech in zip(names, speeches):
            bots.append(AgentBot(name, agent_sip_password(floor, name), server.board.address, speech=speech))
            if not await bots[-1].start():
                raise RuntimeError(f"agent bot {name} could not register")
            server.desk.set_state(name, Wish.READY)
        runner = await follow(server, campaign.id, plan.seconds, on_runner)
        await server.stop_dialling(floor.drain_s)
        if plan.transcribe:
            await wait_for_aftercalls(store, campaign.id, on_wait)
    finally:
        await server.stop(floor.drain_s)
        for bot in bots:
            await bot.close()
        pstn.close()
        await redis_client.aclose()
    return runner.summary if runner is not None else RunSummary()


async def follow(server: Server, campaign_id: int, seconds: float,
                 on_runner: Callable[[CampaignRunner], None]) -> CampaignRunner | None:
    """The campaign's runner, once the host has started it, until `seconds` are up or it ends by itself."""
    deadline, runner = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        hosted = server.host.hosted.get(campaign_id)
        if hosted is None and runner is not None:
            break  # nothing left to dial now
        if hosted is not None and runner is None:
            runner = hosted.runner
            on_runner(runner)
        await asyncio.sleep(FOLLOW_S)
    return runner


async def wait_for_aftercalls(store: Store, campaign_id: int, on_wait: Callable[[int], None]) -> None:
    deadline = time.monotonic() + AFTERCALL_WAIT_S
    waiting = await asyncio.to_thread(aftercalls_waiting, store, campaign_id)
    if waiting:
        on_wait(waiting)
    while waiting and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        waiting = await asyncio.to_thread(aftercalls_waiting, store, campaign_id)
