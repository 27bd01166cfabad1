"""A running campaign: the pacer decides how many lines, the hopper which leads, the gate whether each may
be dialled (the attempt is written with its receipt before the INVITE leaves), the switchboard places
and bridges the calls; every attempt is closed with its outcome, durations and recording.

Routing of an answered call is the call router's (campaigns/routing.py): answering-machine detection
(when on) → a machine gets the limited-content voicemail after its beep, or is hung up on; on an agentless
campaign a person goes to the IVR; else to the longest-idle ready agent of the campaign's group on the
agent desk (campaigns/desk.py, shared by every runner of the process; the screen-pop goes out on its event
bus), or, when none frees up within the no-agent timeout, is abandoned: the ledger counts it and the
router plays the safe-harbour message. The ledger is rebuilt from the attempts table at start, so a
restart neither forgets abandons nor counts them twice; on a cluster node it counts the other nodes' calls
too, read again at every lease renewal, so the pacing keeps the floor's rate, not the node's.

The attempt rows are written through campaigns/attempts.py, in order, by the store writer
(campaigns/writer.py). When the case store is away the runner dials nobody, keeps the calls that are up,
queues their closes and retries with back-off (campaigns/outage.py); it renews its campaign's lease
(campaigns/lease.py) while it runs, and stops dialling if another runner took it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from campaigns import attempts, queues
from campaigns.attempts import CallEnd
from campaigns.hopper import Hopper, Lead
from campaigns.lead_buffer import LeadBuffer
from campaigns.lease import CampaignLease, is_shared
from campaigns.outage import StoreHealth, is_outage
from campaigns.preview import AgentNotReady, DialRefused, Offers
from campaigns.service import schedule_of
from campaigns.writer import StoreWriter
from cases import Store
from cases.audit import record
from campaigns.desk import AgentDesk
from campaigns.events import CallEnded, ScreenPop
from campaigns.routing import CallRouter
from cases.models import Account, Attempt, AttemptOutcome, Campaign, Promise, Source
from dialer.agents import AgentPool, AgentState
from dialer.ledger import AbandonLedger
from dialer.leg import CallLeg
from dialer.pacing.modes import DialMode
from dialer.pacing.view import PacingPolicy, PacingView
from dialer.switchboard import Switchboard

log = logging.getLogger(__name__)

PROMISE_DISPOSITION = "promise_to_pay"
RECORDING_FINAL_S = 30.0  # the most the after-call waits for a call's recording to be made final


@dataclass(frozen=True)
class RunnerConfig:
    group: str = "collectors"
    tick_s: float = 1.0
    no_agent_timeout_s: float = 2.0
    wrap_s: float = 5.0
    ring_timeout_s: float = 25.0
    amd: bool = True
    amd_budget_s: float = 3.5
    ledger_window_s: float = 30 * 24 * 3600
    max_lines: int = 100
    caller_id: str | None = None


@dataclass
class RunSummary:
    dials: int = 0
    refused_at_claim: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    connected: int = 0
    abandoned: int = 0
    promises: int = 0
    bridge_latency_s: list[float] = field(default_factory=list)


class CampaignRunner:
    def __init__(self, *, store: Store, campaign: Campaign, hopper: Hopper, switchboard: Switchboard,
                 policy: PacingPolicy, config: RunnerConfig = RunnerConfig(),
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 after_call: Callable[[int, Path], Awaitable[object]] | None = None,
                 router: CallRouter | None = None, desk: AgentDesk | None = None,
                 disposition: Callable[[str], str] | None = None,
                 dialling_allowed: Callable[[], bool] = lambda: True,
                 lease: CampaignLease | None = None) -> None:
        """`desk`: the process's agent desk (default: one of its own whose logged-in phones are ready);
        `dialling_allowed`: the host's say (False while Redis is away: no new dials, calls up go on)."""
        self.store, self.campaign_id, self.hopper, self.board = store, campaign.id, hopper, switchboard
        self.lead_buffer = LeadBuffer(hopper)
        self.policy, self.config, self.clock = policy, config, clock
        self.after_call, self.dialling_allowed = after_call, dialling_allowed
        self.router = router or CallRouter(board=switchboard, store=store, amd_budget_s=config.amd_budget_s)
        self.desk = desk or AgentDesk(switchboard, wrap_s=config.wrap_s, ready_on_login=True,
                                       groups_of=lambda agent_id: frozenset({config.group}))
        self.disposition = disposition  # what the agent records after a call (agent id -> disposition)
        self.agentless = DialMode(campaign.dial_mode) is DialMode.AGENTLESS  # people go to the IVR, never agents
        self.preview = DialMode(campaign.dial_mode) is DialMode.PREVIEW  # agents dial (`dial_for`), not the pacer
        self.offers = Offers()
        self.schedule = schedule_of(campaign)
        self._dispositions: dict[int, str] = {}
        self._agents: dict[int, str] = {}  # attempt id -> the agent it was bridged to
        self._debtors: dict[int, CallLeg] = {}  # attempt id -> its answered leg (hung up when a drain runs out)
        self.ledger = AbandonLedger(str(campaign.id), config.ledger_window_s, campaign.abandon_target)
        self.summary = RunSummary()
        self._ringing: dict[int, float] = {}  # attempt id -> when dialled (monotonic)
        self._waiting: set[int] = set()  # answered by a person, waiting for an agent
        self._accounts_in_flight: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}  # attempt id -> its call
        self.lease, self._renewed_at = lease, time.monotonic()  # acquired by whoever built the runner
        self._shared = lease is not None and is_shared(lease.owner)  # one campaign across cluster nodes
        self.health = StoreHealth()
        self.writer = StoreWriter(store, self.health, live_calls=lambda: len(self._tasks))

    def _open(self) -> bool:
        return self.schedule is None or self.schedule.open_at(self.clock())

    @property
    def pool(self) -> AgentPool:
        return self.desk.pool

    @property
    def ringing(self) -> int:
        return len(self._ringing)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    # Set-up ----------------------------------------------------------------------------------------------------
    async def _rebuild_ledger(self) -> None:
        """One node: the ledger replays the window's calls from the case store. A cluster node: its ledger
        records its own calls from now on and counts everybody else's (other nodes, earlier runs) from the
        store, read again at every lease renewal: the pacing sees the floor's abandon rate."""
        if self._shared:
            await self._read_floor()
            return
        since = self.clock() - timedelta(seconds=self.config.ledger_window_s)
        offset = time.monotonic() - self.clock().timestamp()
        for answered_at, outcome in sorted(await asyncio.to_thread(self._answered_since, since)):
            self.ledger.record(answered_at.timestamp() + offset, outcome is AttemptOutcome.ABANDONED)

    async def _read_floor(self) -> None:
        since = self.clock() - timedelta(seconds=self.config.ledger_window_s)
        rows = await asyncio.to_thread(self._answered_since, since, but=self.lease.owner if self.lease else None)
        abandoned = sum(outcome is AttemptOutcome.ABANDONED for _, outcome in rows)
        self.ledger.elsewhere = (abandoned, len(rows))

    def _answered_since(self, since: datetime, *, but: str | None = None) -> Sequence[Row[Any]]:
        """The ledger's rows: calls answered by a person since `since`, and whether each was abandoned (but
        those claimed by runner `but`)."""
        query = select(Attempt.answered_at, Attempt.outcome).where(
            Attempt.campaign_id == self.campaign_id, Attempt.answered_at >= since,
            Attempt.outcome.in_([AttemptOutcome.ANSWERED, AttemptOutcome.ABANDONED]),
            Attempt.conversation | (Attempt.outcome == AttemptOutcome.ABANDONED))
        if but is not None:
            query = query.where(Attempt.owner.is_(None) | (Attempt.owner != but))
        with self.store.session() as session:
            return session.execute(query).all()

    # The loop --------------------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> RunSummary:
        """Dial until `stop` is set (or the campaign has no leads left and no call is up); then wait for the
        calls in progress to end."""
        await self._rebuild_ledger()
        backlog = asyncio.ensure_future(self._work_aftercall_backlog())
        idle_ticks = 0
        while not stop.is_set():
            now = time.monotonic()
            if not await self._keep_lease(now):
                break
            self.desk.tick()
            view = PacingView(now=now, agents=self.pool.snapshot(self.config.group, now),
                              ringing_elapsed=tuple(now - t for t in self._ringing.values()),
                              waiting=len(self._waiting), ledger_rate=self.ledger.rate(now),
                              ledger_answered=self.ledger.counts(now)[1], total_answered=self.ledger.total_answered,
                              total_abandoned=self.ledger.total_abandoned)
            lines = min(self.policy.lines_to_dial(view), self.config.max_lines) \
                if self._open() and self.dialling_allowed() else 0
            placed = await self._place(lines) if lines > 0 and self._may_dial(now) else 0
            idle_ticks = idle_ticks + 1 if placed == 0 and not self._tasks and not self.health.down else 0
            if idle_ticks >= 3 and lines > 0:
                break  # nothing left to dial: every lead is done or refused by the gate for now
            if not self._open() and not self._tasks:
                break  # outside the campaign's hours, with every call finished
            with contextlib.suppress(asyncio.TimeoutError):  # the next tick, unless told to stop first
                await asyncio.wait_for(stop.wait(), self.config.tick_s)
        await self._calls_end()
        await self.writer.close()  # every close is written before the run ends
        backlog.cancel()  # after-call jobs not reached stay queued in the store
        return self.summary

    async def hang_up_all(self) -> None:
        """A drain ran out of time: every answered call is hung up, so each attempt closes as usual, and every
        call still ringing is given up (closed as cancelled), so that no call waits out its ring timeout."""
        for attempt_id, task in list(self._tasks.items()):
            if attempt_id not in self._debtors:
                task.cancel()
        for debtor in list(self._debtors.values()):
            await self.router.hang_up(debtor)

    def _may_dial(self, now: float) -> bool:
        """Fail closed: no dial while a write waits for the store, nor before the next retry after a failure."""
        return self.writer.backlog == 0 and self.health.may_try(now)

    def _store_failed(self, error: Exception) -> None:
        if not is_outage(error):
            raise error
        self.health.failed(error, time.monotonic(), len(self._tasks))

    def _claim(self, lead: Lead) -> int | None:
        """The hopper's claim, made in this runner's name (its lease's owner), so that recovery closes the
        attempt when this runner dies and not while it lives."""
        return self.hopper.claim(lead, self.clock(), owner=self.lease.owner if self.lease is not None else None)

    async def _calls_end(self) -> None:
        """Wait for the calls up to end, renewing the lease meanwhile: a call that outlasts the lease would
        otherwise be taken for a dead runner's and closed as interrupted while it is still up, its case no
        longer counted in flight."""
        while self._tasks:
            _, pending = await asyncio.wait(tuple(self._tasks.values()),
                                            timeout=self.lease.renew_s if self.lease is not None else None)
            if not pending:
                return
            await self._keep_lease(time.monotonic())

    async def _keep_lease(self, now: float) -> bool:
        """Renew the campaign's lease when due; False once another runner holds it."""
        if self.lease is None or now - self._renewed_at < self.lease.renew_s:
            return True
        try:
            ours = await asyncio.to_thread(self.lease.renew)
        except Exception as error:
            self._store_failed(error)
            return True
        self._renewed_at = now
        if ours and self._shared:
            try:
                await self._read_floor()
            except Exception as error:
                self._store_failed(error)
        if not ours:
            log.error("campaign %s: this runner's lease lapsed (another took the campaign or swept it); dialling "
                      "stops", self.campaign_id)
        return ours

    async def _work_aftercall_backlog(self) -> None:
        """After-call jobs left by an earlier run (the start-up sweep queued them), while this run dials."""
        if self.after_call is None:
            return
        for attempt_id, recording in await asyncio.to_thread(self._queued_aftercalls):
            try:
                await self.after_call(attempt_id, recording)
            except Exception:
                log.exception("after-call processing of attempt %s failed", attempt_id)

    def _queued_aftercalls(self) -> list[tuple[int, Path]]:
        with self.store.reading() as session:
            return attempts.queued_aftercalls(session, campaign_id=self.campaign_id)

    async def _place(self, lines: int) -> int:
        try:
            leads = await asyncio.to_thread(self.lead_buffer.take, self.clock(), lines,
                                            frozenset(self._accounts_in_flight))
        except Exception as error:
            self._store_failed(error)
            return 0
        self.health.answered(time.monotonic())
        placed = 0
        for lead in leads:
            attempt_id = await asyncio.to_thread(self._claim, lead)
            if attempt_id is None:
                self.summary.refused_at_claim += 1
                continue
            if not await self._dial(lead, attempt_id, None):
                break
            placed += 1
        return placed

    async def _dial(self, lead: Lead, attempt_id: int, agent: str | None) -> bool:
        """Dial a claimed attempt (recorded where the board records); False when the store went away after
        the claim (the attempt is closed as cancelled, not dialled). `agent`: the agent reserved for it."""
        recording = None
        if self.board.recordings is not None:
            recording = attempts.recording_path(self.board.recordings, attempt_id, self.clock())
            try:
                await asyncio.to_thread(self._write_now, partial(attempts.set_recording, attempt_id=attempt_id,
                                                                 path=recording))
            except Exception as error:
                self._store_failed(error)
                self.writer.submit(partial(attempts.close, attempt_id=attempt_id,
                                           end=CallEnd(AttemptOutcome.CANCELLED, self.clock())))
                return False
        self.summary.dials += 1
        self._accounts_in_flight.add(lead.account_id)
        task = asyncio.ensure_future(self._call(lead, attempt_id, recording, agent))
        self._tasks[attempt_id] = task
        task.add_done_callback(lambda _, attempt_id=attempt_id: self._tasks.pop(attempt_id, None))
        return True

    # Preview ---------------------------------------------------------------------------------------------------
    async def offer(self, agent: str) -> Lead | None:
        """The lead `agent` previews: the hopper's next of their work queue, else of the cases nobody else holds
        (`campaigns.queues.preview_lead`), kept for them alone until they dial or skip it (or log out: an agent
        who left holds no case back from the others)."""
        for gone in [name for name in self.offers.offered if self.desk.state(name).state is AgentState.LOGGED_OUT]:
            del self.offers.offered[gone]
        lead = self.offers.offered.get(agent)
        if lead is None:
            now = self.clock()
            lead = await asyncio.to_thread(queues.preview_lead, self.hopper, agent, now,
                                           exclude=self.offers.held(now) | self._accounts_in_flight)
            if lead is None:
                return None
            self.offers.offered[agent] = lead
        return lead

    async def dial_for(self, agent: str, account_id: int) -> int:
        """Dial the lead offered to `agent`, for them: they are reserved first (so the answered call is
        bridged to them and no other call is), the gate decides again as it writes the attempt, and the call
        goes the usual way (recording, close, after-call) without answering-machine detection. The attempt id."""
        lead = self.offers.of(agent, account_id)
        if not self.dialling_allowed() or not self._may_dial(time.monotonic()):
            raise DialRefused("dialling is stopped here for now (the store or Redis is away)", account=account_id)
        if not self.desk.reserve_agent(agent, f"preview:{account_id}"):
            raise AgentNotReady(f"{agent} must be ready to dial", state=self.desk.state(agent).state.value)
        del self.offers.offered[agent]
        try:
            attempt_id = await asyncio.to_thread(self._claim, lead)
        except BaseException:
            self.desk.release(agent)
            raise
        if attempt_id is None:
            self.desk.release(agent)
            self.summary.refused_at_claim += 1
            raise DialRefused(f"the gate refuses account {account_id} now", account=account_id)
        self.pool.agents[agent].call_id = str(attempt_id)  # their desk may pop the case from now on
        if not await self._dial(lead, attempt_id, agent):
            self.desk.release(agent)
            raise DialRefused("the case store went away; nothing was dialled", account=account_id)
        return attempt_id

    async def skip(self, agent: str, account_id: int, reason: str) -> None:
        """The agent skips their offer (audited with their reason); the case rests (`campaigns.preview`)."""
        now = self.clock()
        lead = self.offers.skip(agent, account_id, now)
        await asyncio.to_thread(self._write_now, lambda session: record(
            session, actor=agent, action="preview.skipped", entity="account", entity_id=lead.account_id,
            details={"campaign_id": self.campaign_id, "reason": reason}))

    # One call --------------------------------------------------------------------------------------------------
    def _write_now(self, write: Callable[[Session], object]) -> None:
        with self.store.session() as session:
            write(session)

    async def _call(self, lead: Lead, attempt_id: int, recording: Path | None, agent: str | None) -> None:
        self._ringing[attempt_id] = dialled = time.monotonic()
        outcome, debtor = AttemptOutcome.NETWORK_ERROR, None
        try:
            debtor = await self.board.call_debtor(lead.e164, caller_id=self.config.caller_id,
                                                  ring_timeout=self.config.ring_timeout_s, recording=recording)
            outcome = await self._after_answer(debtor, attempt_id, lead, dialled, agent)
        except asyncio.CancelledError:  # given up while it rang (hang_up_all); closed below all the same
            outcome = AttemptOutcome.CANCELLED
            raise
        except Exception:  # a call's failure must not stop the campaign; the attempt is still closed
            log.exception("call for attempt %s failed", attempt_id)
        finally:
            if agent is not None and getattr(self.pool.agents.get(agent), "call_id", None) == str(attempt_id):
                self.desk.release(agent)  # a preview call that never reached them (still reserved for it)
            self._ringing.pop(attempt_id, None)
            self._debtors.pop(attempt_id, None)
            self._waiting.discard(attempt_id)
            self._accounts_in_flight.discard(lead.account_id)
            end = self._call_end(attempt_id, outcome, debtor)
            closed = self.writer.submit(partial(self._close, attempt_id=attempt_id, end=end))
        self.summary.outcomes[outcome.value] = self.summary.outcomes.get(outcome.value, 0) + 1
        await closed  # waits out a store outage: the after-call needs the closed row
        if end.recording is not None and self.after_call is not None:
            try:
                if debtor is not None:  # final once the leg's media is closed (an rtpengine capture replayed)
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(debtor.closed.wait(), RECORDING_FINAL_S)
                await self.after_call(attempt_id, end.recording)
            except Exception:
                log.exception("after-call processing of attempt %s failed", attempt_id)

    async def _after_answer(self, debtor: CallLeg, attempt_id: int, lead: Lead, dialled: float,
                            previewed_by: str | None) -> AttemptOutcome:
        """The pacer sees the call as ringing until it is known to be a person (after detection); the router
        takes it from there. A preview call (`previewed_by`) goes to its agent, without detection: the agent
        is on the line from the first word and hears a machine for themselves."""
        if not debtor.answered:
            self._resolved(attempt_id, dialled, False)
            return attempts.outcome_of(debtor.result)
        self._debtors[attempt_id] = debtor
        detection = await self.router.detect(debtor) if self.config.amd and previewed_by is None else None
        if detection is not None and detection.machine:
            self._resolved(attempt_id, dialled, False)
            await self.router.machine(debtor, detection)
            return AttemptOutcome.MACHINE
        self._resolved(attempt_id, dialled, True)
        if self.agentless:
            self._waiting.add(attempt_id)  # in the IVR: what an agentless pacer counts as in progress
            self.writer.submit(partial(attempts.mark_conversation, attempt_id=attempt_id))
            await self.router.self_service(debtor, lead.account_id, lead.e164)
            return AttemptOutcome.ANSWERED
        answered = time.monotonic()
        self._waiting.add(attempt_id)
        agent = previewed_by or await self._reserve(attempt_id, answered + self.config.no_agent_timeout_s, debtor)
        self._waiting.discard(attempt_id)
        if agent is None:
            self.ledger.record(answered, True, str(attempt_id))
            self.policy.on_abandoned(time.monotonic())
            self.summary.abandoned += 1
            await self.router.abandon(debtor)
            return AttemptOutcome.ABANDONED
        await self._talk(debtor, attempt_id, lead.account_id, agent, answered)
        return AttemptOutcome.ANSWERED

    def _resolved(self, attempt_id: int, dialled: float, live: bool) -> None:
        """The call leaves the pacer's ringing calls, and the pacer learns its ring time: from the dial to now,
        when it is known to be a person or not (detection included), the very span it was counted as ringing.
        The pacer dates the call's cohort by it (its latest decision minus the ring time), so a live answer and
        a failure dialled together are dated alike: a ring time that left out detection would date every live
        answer ~2 s late, and for those 2 s a cohort's failures alone would count as its answer rate (a burst of
        110 dials read as a near-zero rate, and ~85 calls dialled at once on a floor of 110 agents)."""
        self._ringing.pop(attempt_id, None)
        self.policy.on_resolved(time.monotonic() - dialled, live)

    async def _talk(self, debtor: CallLeg, attempt_id: int, account_id: int, agent: str, answered: float) -> None:
        screen = {"attempt_id": attempt_id, "campaign_id": self.campaign_id, "account_id": account_id}
        connection = self.board.connect(debtor, self.board.agents[agent], screen)
        self.desk.connect(agent)
        self._agents[attempt_id] = agent
        self.ledger.record(answered, False, str(attempt_id))
        self.summary.connected += 1
        self.summary.bridge_latency_s.append(connection.latency_s)
        self.writer.submit(partial(attempts.mark_conversation, attempt_id=attempt_id))
        self.desk.bus.publish(ScreenPop(agent, connection.context))
        talk_started = time.monotonic()
        await connection.ended.wait()
        self.desk.hang_up(agent)
        self.desk.bus.publish(CallEnded(agent, attempt_id))
        if self.disposition is not None:
            self._dispositions[attempt_id] = self.disposition(agent)
        self.policy.on_talk_ended(time.monotonic() - talk_started)

    async def _reserve(self, attempt_id: int, deadline: float, debtor: CallLeg) -> str | None:
        while not debtor.ended.is_set():
            agent = self.desk.reserve(self.config.group, str(attempt_id))
            if agent is not None or time.monotonic() >= deadline:
                return agent
            await asyncio.sleep(0.05)
        return None

    def _promise(self, session: Session, attempt: Attempt, now: datetime, agent: str | None) -> None:
        """The agent's "promise to pay" disposition: the overdue amount, a week from now (the runner's clock,
        which also dates the promise: "promises today" counts by it)."""
        account = session.get(Account, attempt.account_id)
        assert account is not None
        promise = Promise(account_id=account.id, attempt_id=attempt.id, amount=account.overdue_amount,
                          promised_for=(now + timedelta(days=7)).date(), source=Source.AGENT,
                          created_by=attempt.agent_id, created_at=now)
        session.add(promise)
        session.flush()
        self.summary.promises += 1
        record(session, actor=agent or "dialer", action="promise.created", entity="promise", entity_id=promise.id,
               details={"account_id": account.id, "amount": str(promise.amount), "source": "agent"})

    def _call_end(self, attempt_id: int, outcome: AttemptOutcome, debtor: CallLeg | None) -> CallEnd:
        """The call's end as known now; written when the store allows."""
        now = self.clock()
        agent, disposition = self._agents.pop(attempt_id, None), self._dispositions.pop(attempt_id, None)
        if debtor is None:
            return CallEnd(outcome, now, disposition=disposition, agent=agent)
        recorder = debtor.media.recorder
        return CallEnd(outcome, now, debtor.code,
                       now - timedelta(seconds=time.monotonic() - debtor.answered_at) if debtor.answered else None,
                       recorder.path if recorder is not None and recorder.started is not None else None,
                       disposition, agent)

    def _close(self, session: Session, attempt_id: int, end: CallEnd) -> None:
        attempt = attempts.close(session, attempt_id, end)
        if attempt is not None and attempt.disposition == PROMISE_DISPOSITION:
            self._promise(session, attempt, end.ended_at, end.agent)
