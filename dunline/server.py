"""The composition root that `dunline serve` runs: it builds the parts with keyword arguments and decides
nothing itself.

One process holds the case store, Redis, the switchboard (the trunk from settings, the registrar for
agents' phones), one agent desk fed by the agents' legs and the agent-state API, the event bus the agents'
WebSockets read, the call router (voicemail, safe-harbour, IVR), the IVR for inbound calls, the console
API, the campaign host that runs a campaign runner for every running campaign, and the transcription
workers (processes of their own) that every closed call's recording is queued for. A simulated floor is
the same server whose trunk is the PSTN simulator and whose phones are agent bots: live and simulated
differ only in which peers answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from audio.wav import read_pcm
from campaigns.agent_log import log_agent_states
from campaigns.analytics.service import ranking_for
from campaigns.desk import DEFAULT_GROUP, AgentDesk
from campaigns.destruction import Destruction, run_daily
from campaigns.events import EventBus
from campaigns.hopper import Hopper
from campaigns.host import CampaignHost
from campaigns.lease import CampaignLease, new_owner
from campaigns.recovery import sweep_aftercalls
from campaigns.routing import CallRouter, Messages
from campaigns.runner import CampaignRunner, RunnerConfig
from campaigns.seats import AgentSeats
from campaigns.service import segment_from_json
from cases import Store
from cases.models import Campaign, utcnow
from compliance import CampaignFacts, ComplianceGate
from console import build_app
from console.admin import Installation, InstallationKey
from console.campaigns import CampaignsChangedKey
from console.review import MasterKeysKey, RecordingsKey
from console.sessions import SessionPolicy
from dialer.leg import CallLeg
from dialer.pacing import DialMode, PacingPolicy, PredictiveConfig, pacer_for
from dunline.daily_reports import serve_daily_reports
from dunline.exposure import http_tls_context
from dunline.identity import signin_policy
from dunline.installation import master_keys
from dunline.reminders import serve_reminders
from dunline.settings import Settings
from dunline.telephony import build_switchboard, phone_passwords
from dunline.workers import WorkerSupervisor
from ivr.listening import spoken_listener
from ivr.service import IvrService
from recordings.retention import load_policies
from speech.tts import PromptRenderer, Prompts

log = logging.getLogger(__name__)

WEB_SHUTDOWN_S = 2.0  # requests still open then (an agent's events WebSocket never ends by itself) are cancelled
WORKERS_STOP_S = 10.0  # transcription workers busy longer are terminated; their jobs are redone after the lease
# A full collection at most every this many middle-generation ones (CPython's default is 10). Measured on the
# floor bench (40 agents, 2 shared cores): calls promote ~20k short-lived objects a second (recorder chunks,
# queued frames, timer handles), so the default ran a full collection every 2.4 s, each walking ~190k objects
# for 70-90 ms with the loop stopped: the media clock's p99 lateness was that pause (92 ms). Start-up objects
# frozen and full collections 10x rarer: they walk ~10-20k objects (5-12 ms), about every 25 s.
FULL_COLLECTION_EVERY = 100


def settle_collector() -> None:
    """Take what start-up built (modules, mappers, the app) out of the cyclic collector's full collections
    and make those rarer: the collector stops the event loop that drives the 20 ms media clock while it walks.
    Garbage cycles are still collected, only the oldest generation later."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def console_signin(settings: Settings) -> dict[str, Any]:
    """The console's session and sign-in settings, as `build_app` takes them."""
    return {"secret_key": settings.secret_key.get_secret_value().encode(),
            "session_policy": SessionPolicy(idle=timedelta(seconds=settings.session_idle_s),
                                            lifetime=timedelta(seconds=settings.session_lifetime_s)),
            "signin_policy": signin_policy(settings)}


def policy_for(campaign: Campaign) -> PacingPolicy:
    return pacer_for(DialMode(campaign.dial_mode), lines_per_agent=float(campaign.definition.get("lines_per_agent", 2)),
                     predictive=PredictiveConfig(target=campaign.abandon_target))


def require_master_key(settings: Settings) -> None:
    """NoMasterKey, naming the key file and DUNLINE_MASTER_KEY, unless the master keys can be read."""
    master_keys(settings.data_dir).require()


class Server:
    def __init__(self, *, settings: Settings, store: Store, redis_client: aioredis.Redis,
                 clock: Callable[[], datetime], workers: WorkerSupervisor | None = None,
                 disposition: Callable[[str], str] | None = None, only: frozenset[int] | None = None,
                 owner: str | None = None, http: bool = True, settle_gc: bool = False) -> None:
        """`clock`: the campaigns' wall clock (the gates judge calling hours by it; simulations shift it);
        `workers`: the transcription workers the runners' recordings go to (None: no after-call step);
        `disposition`: what agents record after each call when no person does (agent bots); `only`: host
        just these campaigns; `owner`: the campaign leases' owner id (a caller already holding one);
        `http`: serve the console API; `settle_gc`: once started, `settle_collector()` (the serve process does;
        a test process, whose collector is shared by every test, does not)."""
        self.settings, self.store, self.redis, self.clock = settings, store, redis_client, clock
        self.workers, self.disposition = workers, disposition
        self.after_call = workers.after_call(store) if workers is not None else None
        renderer = PromptRenderer(settings.data_dir / "prompts")
        prompts = Prompts(renderer)
        self.ivr = IvrService(store, lambda prompt, text, language: read_pcm(prompts.prompt(prompt, text, language)),
                              clock=clock, listener=spoken_listener if settings.ivr_spoken_answers else None)
        self.board = build_switchboard(settings, store, inbound=self._inbound)
        self.bus = EventBus()
        owner = owner or new_owner(settings.node_id)
        seats = AgentSeats(store, owner, settings.campaign_lease_s) if settings.node_id else None
        self.desk = AgentDesk(self.board, bus=self.bus, seats=seats)
        self.messages = Messages(render=lambda prompt, text, language: read_pcm(renderer.render(text, language)),
                                 values={"company": settings.company_name, "phone": settings.company_phone,
                                         "person": settings.company_person}, company=settings.company_name)
        self.router = CallRouter(board=self.board, store=store, messages=self.messages, ivr=self.ivr)
        self.host = CampaignHost(store=store, build=self.runner_for, clock=clock, healthy=self._redis_answers,
                                 only=only, owner=owner,
                                 lease_s=settings.campaign_lease_s)
        self.http, self.settle_gc = http, settle_gc
        self._web: web.AppRunner | None = None
        self._watch: asyncio.Task[None] | None = None
        self._retention: asyncio.Task[None] | None = None  # the destruction job, daily
        self._ticking: asyncio.Task[None] | None = None  # the agent desk's own tick, campaign or none
        self._reminders: asyncio.Task[None] | None = None  # the SMS reminders, hourly (dunline/reminders.py)
        self._daily_reports: asyncio.Task[None] | None = None  # DPD snapshot and summary (dunline/daily_reports.py)
        self._agent_log: asyncio.Task[None] | None = None  # the agent state log (campaigns/agent_log.py)
        self.destruction = Destruction(store, load_policies(),
                                       transcripts=workers.transcripts() if workers is not None else None)
        self._stop = asyncio.Event()

    def runner_for(self, campaign: Campaign, lease: CampaignLease, dialling_allowed: Callable[[], bool]) -> CampaignRunner:
        hopper = Hopper(self.store, ComplianceGate(self.store), segment_from_json(campaign.definition["segment"]),
                        CampaignFacts(campaign_id=campaign.id),
                        ranking=ranking_for(self.store, self.settings.data_dir, campaign.id, campaign.definition))
        config = RunnerConfig(group=campaign.agent_group or DEFAULT_GROUP, ring_timeout_s=self.settings.ring_timeout_s,
                              caller_id=campaign.caller_id)
        return CampaignRunner(store=self.store, campaign=campaign, hopper=hopper, switchboard=self.board,
                              policy=policy_for(campaign), config=config, clock=self.clock, after_call=self.after_call,
                              router=self.router, desk=self.desk, dialling_allowed=dialling_allowed, lease=lease,
                              disposition=self.disposition)

    async def _inbound(self, leg: CallLeg, caller: str) -> None:
        """A debtor calling us: the IVR, which verifies them before it says anything about a debt."""
        await self.ivr.handle(leg, hang_up=lambda: self.router.hang_up(leg), caller=caller)

    def installation(self) -> Installation:
        """What the admin pages show of this server: SIP passwords, the workers, the data dir's disk."""
        workers = self.workers
        return Installation(data_dir=self.settings.data_dir, sip_password=phone_passwords(self.settings, self.store),
                            sip_server=f"{self.settings.sip_host}:{self.settings.sip_port}",
                            workers=(lambda: (workers.alive(), workers.count)) if workers is not None else None)

    async def _redis_answers(self) -> bool:
        try:
            await self.redis.ping()
        except Exception:  # any failure is Redis away: fail closed
            return False
        return True

    async def start(self) -> None:
        """Queue the recordings a crash left without after-call jobs, start the transcription workers (they
        put the case store's after-call backlog on the stream first), then the switchboard, the API, the
        campaign host. Refuses (NoMasterKey) without a readable master key: recordings are sealed at rest and
        none may be written in the clear."""
        require_master_key(self.settings)
        await asyncio.to_thread(sweep_aftercalls, self.store)
        if self.workers is not None:
            await asyncio.to_thread(self.workers.start)
        await self.board.start()
        if self.http:
            app = build_app(store=self.store, redis_client=self.redis, desk=self.desk, bus=self.bus,
                            host=self.host, **console_signin(self.settings))
            app[CampaignsChangedKey] = self.host.nudge
            if self.board.recordings is not None:
                app[RecordingsKey] = self.board.recordings  # the reviewer's call pages play them
            app[MasterKeysKey] = master_keys(self.settings.data_dir)  # they decrypt the sealed recordings
            app[InstallationKey] = self.installation()
            self._web = web.AppRunner(app, shutdown_timeout=WEB_SHUTDOWN_S)
            await self._web.setup()
            await web.TCPSite(self._web, self.settings.http_host, self.settings.http_port,
                              ssl_context=http_tls_context(self.settings)).start()
        self._watch = asyncio.get_running_loop().create_task(self.host.run(self._stop))
        self._retention = asyncio.get_running_loop().create_task(run_daily(self.destruction, self._stop))
        self._ticking = asyncio.get_running_loop().create_task(self.desk.run(self._stop))
        self._reminders = asyncio.get_running_loop().create_task(
            serve_reminders(self.settings, self.store, self._stop, self.clock))
        self._daily_reports = asyncio.get_running_loop().create_task(
            serve_daily_reports(self.settings, self.store, self._stop))
        self._agent_log = asyncio.get_running_loop().create_task(
            log_agent_states(self.bus, self.store, self._stop, utcnow))
        if self.settle_gc:
            settle_collector()

    async def stop_dialling(self, drain_s: float) -> None:
        """No new dials; the calls up end (at most `drain_s`, then they are hung up). The workers go on."""
        self._stop.set()
        if self._watch is not None:
            await self._watch
        if self._retention is not None:
            await self._retention
        if self._ticking is not None:
            await self._ticking
        if self._reminders is not None:
            await self._reminders
        if self._daily_reports is not None:
            await self._daily_reports
        if self._agent_log is not None:
            await self._agent_log
        await self.host.drain(drain_s)
        if self.desk.seats is not None:
            with contextlib.suppress(Exception):  # the case store away: the seats lapse instead
                await asyncio.to_thread(self.desk.seats.release)

    async def stop(self, drain_s: float) -> None:
        """Stop dialling, let the calls up end (at most `drain_s`), close everything."""
        await self.stop_dialling(drain_s)
        log.info("campaigns drained; closing the API and the switchboard")
        if self._web is not None:
            await self._web.cleanup()
        await self.board.close()
        if self.workers is not None:
            await asyncio.to_thread(self.workers.stop, WORKERS_STOP_S)
