"""The composition root that `dunline serve` runs: it builds the parts with keyword arguments and decides
nothing itself.

One process holds the case store, Redis, the switchboard (the trunk from settings, the registrar for
agents' phones), one agent desk fed by the agents' legs and the agent-state API, the event bus the agents'
WebSockets read, the call router (voicemail, safe-harbour, IVR), the IVR for inbound calls, the console
API, and the campaign host that runs a campaign runner for every running campaign. A simulated floor is
the same server whose trunk is the PSTN simulator and whose phones are agent bots: live and simulated
differ only in which peers answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import web

from audio.wav import read_pcm
from campaigns.desk import DEFAULT_GROUP, AgentDesk
from campaigns.events import EventBus
from campaigns.hopper import Hopper
from campaigns.host import CampaignHost
from campaigns.lease import CampaignLease
from campaigns.routing import CallRouter, Messages
from campaigns.runner import CampaignRunner, RunnerConfig
from campaigns.service import segment_from_json
from cases import Store
from cases.models import Campaign
from compliance import CampaignFacts, ComplianceGate
from console import build_app
from dialer.leg import CallLeg
from dialer.pacing import DialMode, PacingPolicy, PredictiveConfig, pacer_for
from dunline.settings import Settings
from dunline.telephony import build_switchboard
from ivr.service import IvrService
from speech.tts import PromptRenderer, Prompts

log = logging.getLogger(__name__)

AfterCallHook = Callable[[int, Path], Awaitable[object]]


def policy_for(campaign: Campaign) -> PacingPolicy:
    return pacer_for(DialMode(campaign.dial_mode), lines_per_agent=float(campaign.definition.get("lines_per_agent", 2)),
                     predictive=PredictiveConfig(target=campaign.abandon_target))


class Server:
    def __init__(self, *, settings: Settings, store: Store, redis_client: aioredis.Redis,
                 clock: Callable[[], datetime], after_call: AfterCallHook | None = None,
                 only: frozenset[int] | None = None, http: bool = True) -> None:
        """`clock`: the campaigns' wall clock (the gates judge calling hours by it; simulations shift it);
        `only`: host just these campaigns; `http`: serve the console API."""
        self.settings, self.store, self.redis, self.clock, self.after_call = settings, store, redis_client, clock, after_call
        renderer = PromptRenderer(settings.data_dir / "prompts")
        prompts = Prompts(renderer)
        self.ivr = IvrService(store, lambda prompt, text, language: read_pcm(prompts.prompt(prompt, text, language)),
                              clock=clock)
        self.board = build_switchboard(settings, store, inbound=self._inbound)
        self.bus = EventBus()
        self.desk = AgentDesk(self.board, bus=self.bus)
        self.messages = Messages(render=lambda prompt, text, language: read_pcm(renderer.render(text, language)),
                                 values={"company": settings.company_name, "phone": settings.company_phone,
                                         "person": settings.company_person}, company=settings.company_name)
        self.router = CallRouter(board=self.board, store=store, messages=self.messages, ivr=self.ivr)
        self.host = CampaignHost(store=store, build=self.runner_for, clock=clock, healthy=self._redis_answers,
                                 only=only)
        self.http = http
        self._web: web.AppRunner | None = None
        self._watch: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def runner_for(self, campaign: Campaign, lease: CampaignLease, dialling_allowed: Callable[[], bool]) -> CampaignRunner:
        hopper = Hopper(self.store, ComplianceGate(self.store), segment_from_json(campaign.definition["segment"]),
                        CampaignFacts(campaign_id=campaign.id))
        config = RunnerConfig(group=campaign.agent_group or DEFAULT_GROUP, ring_timeout_s=self.settings.ring_timeout_s,
                              caller_id=campaign.caller_id)
        return CampaignRunner(store=self.store, campaign=campaign, hopper=hopper, switchboard=self.board,
                              policy=policy_for(campaign), config=config, clock=self.clock, after_call=self.after_call,
                              router=self.router, desk=self.desk, dialling_allowed=dialling_allowed, lease=lease)

    async def _inbound(self, leg: CallLeg, caller: str) -> None:
        """A debtor calling us: the IVR, which verifies them before it says anything about a debt."""
        await self.ivr.handle(leg, hang_up=lambda: self.router.hang_up(leg), caller=caller)

    async def _redis_answers(self) -> bool:
        try:
            await self.redis.ping()
        except Exception:  # any failure is Redis away: fail closed
            return False
        return True

    async def start(self) -> None:
        await self.board.start()
        if self.http:
            app = build_app(store=self.store, redis_client=self.redis, desk=self.desk, bus=self.bus)
            self._web = web.AppRunner(app)
            await self._web.setup()
            await web.TCPSite(self._web, self.settings.http_host, self.settings.http_port).start()
        self._watch = asyncio.get_running_loop().create_task(self.host.run(self._stop))

    async def stop(self, drain_s: float) -> None:
        """Stop dialling, let the calls up end (at most `drain_s`), close everything."""
        self._stop.set()
        if self._watch is not None:
            await self._watch
        await self.host.drain(drain_s)
        log.info("campaigns drained; closing the API and the switchboard")
        if self._web is not None:
            await self._web.cleanup()
        await self.board.close()
