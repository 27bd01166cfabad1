"""The campaign host: runs, inside one process, a runner for every campaign the case store says is running.

Status changes are made by the CLI or the API and land in the case store, so the host reads the campaigns
table (off the event loop, every `poll_s`; `nudge()` lets the API in the same process skip the wait) and
for each running campaign it does not host yet takes the campaign's lease, closes what a dead runner left
in flight, and starts a runner. On a cluster node (an owner naming a node id, campaigns/lease.py) every node
hosts every running campaign, each with a lease of its own, and the host also closes, every lease period, the
in-flight attempts of peers whose leases lapsed: a node killed mid-campaign has its calls closed as interrupted
by the nodes left, which go on dialling the campaign. A node asked to drain (campaigns/drain.py) sees no
campaign running: its runners stop as on a pause, and it takes no lease until resumed. A campaign no longer
running (paused, finished) has its runner's stop set: no new dials from then on, the calls up end as they
will, then the lease is released. After a restart the
running campaigns are simply found running again. A runner that ends by itself (no lead may be dialled
now) is started again only after `rest_s`.

Fail closed: while `healthy()` says no (Redis away) or the store cannot be read, no runner dials; one log
line when it goes, one when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from campaigns.drain import draining
from campaigns.lease import LEASE_S, CampaignLease, new_owner, node_of
from campaigns.outage import is_outage
from campaigns.preview import NoPreview
from campaigns.recovery import close_interrupted
from campaigns.runner import CampaignRunner
from cases import Store
from cases.models import Campaign, CampaignStatus

log = logging.getLogger(__name__)

POLL_S = 0.5
REST_S = 30.0
RunnerFactory = Callable[[Campaign, CampaignLease, Callable[[], bool]], CampaignRunner]


@dataclass(eq=False)
class Hosted:
    campaign_id: int
    runner: CampaignRunner
    lease: CampaignLease
    stop: asyncio.Event
    task: asyncio.Task[None] | None = None


class CampaignHost:
    def __init__(self, *, store: Store, build: RunnerFactory, clock: Callable[[], datetime],
                 healthy: Callable[[], Awaitable[bool]] | None = None, only: frozenset[int] | None = None,
                 poll_s: float = POLL_S, rest_s: float = REST_S, owner: str | None = None,
                 lease_s: float = LEASE_S) -> None:
        """`build(campaign, lease, dialling_allowed)` makes a runner; `clock` is the campaigns' clock
        (recovery stamps with it); `only`: host these campaigns alone (a one-campaign simulated run);
        `owner`: the leases' owner (`campaigns.lease.new_owner`; one naming a node id shares campaigns)."""
        self.store, self.build, self.clock, self.healthy, self.only = store, build, clock, healthy, only
        self.poll_s, self.rest_s, self.owner, self.lease_s = poll_s, rest_s, owner or new_owner(), lease_s
        self._swept_at = time.monotonic()  # a cluster node's last sweep of its peers' orphans
        self.hosted: dict[int, Hosted] = {}
        self._resting: dict[int, float] = {}  # campaign id -> monotonic time it may start again
        self._nudged = asyncio.Event()
        self._up = True  # the store and Redis answered at the last poll
        self.node = node_of(self.owner)
        self.draining = False  # this node was asked to drain (a cluster node only)

    def dialling_allowed(self) -> bool:
        return self._up

    def nudge(self) -> None:
        """A status just changed in this process: look now, not at the next poll."""
        self._nudged.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until `stop`; then stop every runner (see `drain`)."""
        while not stop.is_set():
            await self.poll()
            self._nudged.clear()
            waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._nudged.wait())}
            await asyncio.wait(waits, timeout=self.poll_s, return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()

    async def poll(self) -> None:
        try:
            healthy = await self.healthy() if self.healthy is not None else True
            running = await asyncio.to_thread(self._running) if healthy else None
        except Exception as error:
            if not is_outage(error):
                raise
            healthy, running = False, None
        self._set_up(healthy and running is not None)
        if running is None:
            return
        for hosted in self.hosted.values():
            if hosted.campaign_id not in running:
                hosted.stop.set()  # paused or finished: no new dials, calls up end as they will
        for campaign_id, campaign in running.items():
            if campaign_id not in self.hosted and self._resting.get(campaign_id, 0.0) <= time.monotonic():
                await self._start(campaign)
        if self.node is not None and time.monotonic() - self._swept_at >= self.lease_s:
            await self._sweep()

    async def _sweep(self) -> None:
        """Close the calls that nodes gone since left in flight (this node's own leases are live)."""
        self._swept_at = time.monotonic()
        try:
            interrupted = await asyncio.to_thread(close_interrupted, self.store, self.clock())
        except Exception as error:
            if not is_outage(error):
                raise
            return
        if interrupted:
            log.warning("closed %d attempt(s) a gone node left in flight as interrupted", len(interrupted))

    def _set_up(self, up: bool) -> None:
        if up != self._up:
            if up:
                log.warning("case store and Redis answer again: campaigns dial again")
            else:
                log.error("case store or Redis unreachable: no campaign dials until both answer")
        self._up = up

    def _running(self) -> dict[int, Campaign]:
        """The running campaigns this node is to host (none while it drains)."""
        with self.store.reading() as session:
            if self.node is not None and draining(session, self.node) != self.draining:
                self.draining = not self.draining
                log.warning("node %s %s", self.node, "drains: its runners stop, calls up end as they will"
                            if self.draining else "resumed: it takes campaigns again")
            if self.draining:
                return {}
            query = select(Campaign).where(Campaign.status == CampaignStatus.RUNNING)
            if self.only is not None:
                query = query.where(Campaign.id.in_(self.only))
            campaigns = session.scalars(query).all()
            session.expunge_all()
        return {campaign.id: campaign for campaign in campaigns}

    async def _start(self, campaign: Campaign) -> None:
        lease = CampaignLease(self.store, campaign.id, self.owner, lease_s=self.lease_s)
        try:
            holder = await asyncio.to_thread(lease.try_acquire)
            if holder is not None:
                return  # another node runs it; its lease will say when it is gone
            interrupted = await asyncio.to_thread(close_interrupted, self.store, self.clock(),
                                                  lease=(campaign.id, self.owner))
        except Exception as error:
            if not is_outage(error):
                raise
            return
        if interrupted:
            log.warning("campaign %s: closed %d attempt(s) a dead runner left in flight as interrupted",
                        campaign.id, len(interrupted))
        hosted = Hosted(campaign.id, self.build(campaign, lease, self.dialling_allowed), lease, asyncio.Event())
        self.hosted[campaign.id] = hosted
        hosted.task = asyncio.get_running_loop().create_task(self._host(hosted))
        log.info("campaign %s (%s): runner started", campaign.id, campaign.name)

    async def _host(self, hosted: Hosted) -> None:
        try:
            await hosted.runner.run(hosted.stop)
        except Exception:
            log.exception("campaign %s: runner failed", hosted.campaign_id)
        finally:
            if not hosted.stop.is_set():
                self._resting[hosted.campaign_id] = time.monotonic() + self.rest_s
            with contextlib.suppress(Exception):
                await asyncio.to_thread(hosted.lease.release)
            self.hosted.pop(hosted.campaign_id, None)
            log.info("campaign %s: runner stopped", hosted.campaign_id)

    def previewing(self, agent: str, groups: frozenset[str]) -> CampaignRunner:
        """The preview campaign hosted here that serves `agent`: the one holding their offer, else the first
        whose agent group is one of theirs (`campaigns.preview.NoPreview` when none)."""
        runners = [hosted.runner for hosted in self.hosted.values() if hosted.runner.preview]
        runner = next((r for r in runners if agent in r.offers.offered), None) \
            or next((r for r in runners if r.config.group in groups), None)
        if runner is None:
            raise NoPreview(f"no preview campaign for {agent} runs on this node")
        return runner

    async def drain(self, limit_s: float) -> None:
        """Stop dialling everywhere and let the calls up end, for at most `limit_s`; then hang up what is
        left, so that every attempt is closed before the process exits."""
        for hosted in self.hosted.values():
            hosted.stop.set()
        tasks = {hosted.task for hosted in self.hosted.values() if hosted.task is not None}
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=limit_s)
        if pending:
            log.warning("drain limit of %.0f s reached: hanging up %d campaign(s)' remaining calls",
                        limit_s, len(pending))
            for hosted in list(self.hosted.values()):
                await hosted.runner.hang_up_all()
            await asyncio.wait(pending, timeout=10)
