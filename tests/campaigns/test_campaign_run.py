"""A small campaign over real SIP and RTP: the PSTN simulator as carrier and debtors, two agent bots (one of
them threatening debtors with the police), progressive pacing, then transcription and screening on the one after-call path (the durable stream, worked by the worker loop).
Asserted: every dial has an attempt with its receipt, the ledger is within target, answered calls have
stereo recordings and transcripts, and the misbehaving agent's call is flagged with the right category
and speaker."""

import asyncio
import threading
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import redis
from sqlalchemy import select

from campaigns.aftercall import AfterCall, ScreenTranscripts
from campaigns.events import ScreenPop, drain
from campaigns.hopper import Hopper
from campaigns.runner import CampaignRunner, RunnerConfig
from campaigns.service import CampaignSpec, change_status, create_campaign
from cases import Store
from cases.models import Account, Address, Attempt, AttemptOutcome, Debtor, Phone, PhoneKind, Product, ScreeningFinding
from cases.segments import Segment
from compliance import CampaignFacts, ComplianceGate
from crypto import KEY_FILE, ensure_key_file
from audio.wav import read_pcm
from dialer.pacing.modes import DialMode
from dialer.pacing.view import ProgressivePacer
from dialer.simulate.agent_bot import AgentBot
from dialer.simulate.pstn import VOICES, Persona, PstnSimulator, Script
from dialer.switchboard import Switchboard, Trunk
from recordings.jobs import JobQueue
from recordings.transcripts import TranscriptStore, json_path
from recordings.worker import run_worker
from speech.tts import PromptRenderer
from dunline.settings import Settings
from tests.conftest import REDIS_URL
from tests.sound import read_stereo, rms

NOON_IN_CALIFORNIA = datetime(2026, 11, 30, 20, 0, tzinfo=timezone.utc)
NUMBERS = ["+14155550101", "+14155550102", "+14155550103", "+14155550104", "+14155550105"]


def floor_settings(store: Store, tmp_path: Path) -> Settings:
    """A simulated floor's settings: its data under tmp_path (with the master key `dunline db upgrade` writes:
    the server seals recordings and refuses to start without it), the test's store, no transcription workers."""
    ensure_key_file(tmp_path / KEY_FILE)
    return Settings(data_dir=tmp_path, database_url=store.url, transcription_workers=0, drain_s=10)


def seed(store: Store, numbers: list[str] = NUMBERS) -> None:
    """A debtor in California with one account per number."""
    with store.session() as session:
        for n, number in enumerate(numbers):
            debtor = Debtor(external_ref=f"D{n}", full_name=f"Debtor {n}", language="en")
            debtor.addresses.append(Address(region="CA", country="US", timezone="America/Los_Angeles"))
            debtor.phones.append(Phone(e164=number, kind=PhoneKind.MOBILE, consent_automated=True))
            session.add(debtor)
            session.flush()
            session.add(Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"A{n}", product=Product.CREDIT_CARD,
                                currency="USD", principal=Decimal(1000), balance=Decimal(500 + 100 * n),
                                overdue_amount=Decimal(200), due_date=date(2026, 9, 1), jurisdiction="US"))


async def test_a_small_campaign_runs_end_to_end(sqlite_store: Store, tmp_path: Path, redis_prefix: str) -> None:
    seed(sqlite_store)
    scripts = {number: Script(Persona.PERSON, ring_s=0.5, talk_s=6.0) for number in NUMBERS[:4]}
    scripts[NUMBERS[4]] = Script(Persona.BUSY)
    pstn = PstnSimulator(scripts=scripts)
    await pstn.start()
    client = redis.Redis.from_url(REDIS_URL)
    transcripts = f"{redis_prefix}:transcripts"
    jobs = JobQueue(client, prefix=redis_prefix, transcripts=TranscriptStore(client, transcripts))
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=2, keepalive_s=0),
                        password_of={"polite": "p1", "rude": "p2"}.get, recordings=tmp_path / "recordings")
    await board.start()
    threat = PromptRenderer(tmp_path / "tts").render(
        "If you do not pay today, the police will come to your house and arrest you.", "en")
    bots = [AgentBot("polite", "p1", board.address),
            AgentBot("rude", "p2", board.address, speech=np.concatenate([read_pcm(threat), np.zeros(4000, np.int16)]))]
    try:
        for bot in bots:
            assert await bot.start()
            board.login(bot.user)
        await asyncio.wait_for(asyncio.gather(*(leg.up.wait() for leg in board.agents.values())), 10)
        with sqlite_store.session() as session:
            campaign = create_campaign(session, CampaignSpec("e2e", Segment(jurisdictions=("US",)), DialMode.PROGRESSIVE,
                                                             agent_group="collectors"), actor="manager")
            change_status(session, campaign.id, "start", actor="manager")
            session.expunge(campaign)
        hopper = Hopper(sqlite_store, ComplianceGate(sqlite_store), Segment(jurisdictions=("US",)),
                        CampaignFacts(campaign_id=campaign.id))
        runner = CampaignRunner(store=sqlite_store, campaign=campaign, hopper=hopper, switchboard=board,
                                policy=ProgressivePacer(), config=RunnerConfig(amd=False, ring_timeout_s=5),
                                clock=lambda: NOON_IN_CALIFORNIA,
                                after_call=AfterCall(sqlite_store, jobs))
        with runner.desk.bus.subscribe(lambda event: isinstance(event, ScreenPop)) as screen_pops:
            summary = await asyncio.wait_for(runner.run(asyncio.Event()), 240)
            pops = [{"agent": pop.agent_id, **pop.context} for pop in drain(screen_pops)]
        stop = threading.Event()
        timer = asyncio.get_running_loop().call_later(180, stop.set)  # a missing job fails below, not hangs
        worked = await asyncio.to_thread(run_worker, REDIS_URL, prefix=redis_prefix, transcript_prefix=transcripts,
                                         languages=("en",), block_s=0.2, max_jobs=4, stop=stop,
                                         after=ScreenTranscripts(sqlite_store.url))
        timer.cancel()
    finally:
        for bot in bots:
            await bot.close()
        await board.close()
        pstn.close()

    assert summary.dials == 5 and summary.abandoned == 0 and summary.connected == 4
    assert worked == 4  # one job per answered call's recording, each transcribed and screened
    assert len(pops) == 4 and {p["agent"] for p in pops} == {"polite", "rude"} and all(p["account_id"] for p in pops)
    assert runner.ledger.rate(float("inf")) <= 0.03
    with sqlite_store.session() as session:
        attempts = session.scalars(select(Attempt).order_by(Attempt.id)).all()
        assert len(attempts) == 5
        for attempt in attempts:
            assert attempt.receipt["verdict"] == "allowed" and attempt.campaign_id == campaign.id
        outcomes = sorted(a.outcome.value for a in attempts)
        assert outcomes == ["answered"] * 4 + ["busy"]
        for attempt in attempts:
            if attempt.outcome is AttemptOutcome.ANSWERED:
                left, right, _ = read_stereo(Path(attempt.recording_path))
                assert rms(left) > 100 and rms(right) > 100  # the debtor and the agent, both recorded
                assert json_path(attempt.recording_path).exists()  # and transcribed
        findings = session.scalars(select(ScreeningFinding)).all()
        threats = [f for f in findings if f.category in ("false_legal_threat", "threat_violence") and f.speaker == "agent"]
        assert threats, [(f.category, f.speaker, f.excerpt) for f in findings]
        assert any("police" in f.excerpt.lower() for f in threats)
        assert session.get(Account, threats[0].account_id) is not None


async def test_item_9a_bridged_attempts_and_their_promises_name_the_agent(sqlite_store: Store, tmp_path: Path) -> None:
    """On the simulated floor every bridged attempt carries its agent, and a promise taken on it was created
    by that agent."""
    from cases.models import Promise, User
    from dialer.simulate.pstn import Persona
    from dunline.campaign_floor import FloorPlan, run_simulated

    seed(sqlite_store)
    with sqlite_store.session() as session:
        campaign = create_campaign(session, CampaignSpec("named", Segment(jurisdictions=("US",)), DialMode.PROGRESSIVE,
                                                         agent_group="collectors"), actor="manager")
        change_status(session, campaign.id, "start", actor="manager")
        session.expunge(campaign)
    plan = FloorPlan(agents=3, rude_agents=0, seconds=10, transcribe=False, ring_s=(0.2, 0.5),
                     mix={Persona.PERSON: 1.0}, seed=3)
    summary = await asyncio.wait_for(run_simulated(floor_settings(sqlite_store, tmp_path), sqlite_store, campaign,
                                                   plan, redis_url=REDIS_URL, clock=lambda: NOON_IN_CALIFORNIA), 60)
    assert summary.connected >= 3 and summary.promises >= 1, summary
    with sqlite_store.session() as session:
        bots = {row.id: row.username for row in session.execute(select(User.id, User.username))}
        bridged = session.scalars(select(Attempt).where(Attempt.conversation)).all()
        assert len(bridged) == summary.connected
        assert all(bots.get(a.agent_id, "").startswith("bot") for a in bridged), [a.agent_id for a in bridged]
        promises = session.scalars(select(Promise)).all()
        agent_of = {a.id: a.agent_id for a in bridged}
        assert promises and all(p.created_by is not None and p.created_by == agent_of[p.attempt_id] for p in promises)


class RingTimes(ProgressivePacer):
    """Progressive pacing that notes when it decided to dial, and the dial time each resolved call's ring time
    implies."""

    def __init__(self) -> None:
        self.decided: list[float] = []
        self.resolved: list[tuple[float, bool]] = []  # (the dial time the ring time implies, live)

    def lines_to_dial(self, view):  # type: ignore[no-untyped-def]
        lines = super().lines_to_dial(view)
        if lines:
            self.decided.append(time.monotonic())
        return lines

    def on_resolved(self, ring_seconds: float, live: bool) -> None:
        self.resolved.append((time.monotonic() - ring_seconds, live))


async def test_the_pacer_learns_ring_times_up_to_detection_so_live_answers_date_to_their_dial(
        sqlite_store: Store, tmp_path: Path) -> None:
    """A live answer is counted as ringing until detection says it is a person, and its ring time runs that
    far: a ring time that stopped at the SIP answer dated every live answer seconds after its dial, and the
    predictive pacer, which counts a cohort's answer rate once its dial time is a horizon old, read a burst's
    failures alone for those seconds (on a 110-agent floor: ~85 calls dialled at once, 13% abandoned)."""
    seed(sqlite_store)
    scripts = {number: Script(Persona.PERSON, ring_s=0.5, talk_s=2.0) for number in NUMBERS[:3]}
    scripts.update({number: Script(Persona.BUSY) for number in NUMBERS[3:]})
    pstn = PstnSimulator(scripts=scripts, greeting_voice=VOICES / "debtor-hello.wav")
    await pstn.start()
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=2, keepalive_s=0), password_of={"polite": "p1"}.get)
    await board.start()
    bot = AgentBot("polite", "p1", board.address)
    pacer = RingTimes()
    try:
        assert await bot.start()
        board.login(bot.user)
        await asyncio.wait_for(board.agents["polite"].up.wait(), 10)
        with sqlite_store.session() as session:
            campaign = create_campaign(session, CampaignSpec("rings", Segment(jurisdictions=("US",)),
                                                             DialMode.PROGRESSIVE, agent_group="collectors"),
                                       actor="manager")
            change_status(session, campaign.id, "start", actor="manager")
            session.expunge(campaign)
        hopper = Hopper(sqlite_store, ComplianceGate(sqlite_store), Segment(jurisdictions=("US",)),
                        CampaignFacts(campaign_id=campaign.id))
        runner = CampaignRunner(store=sqlite_store, campaign=campaign, hopper=hopper, switchboard=board, policy=pacer,
                                config=RunnerConfig(amd=True, ring_timeout_s=5), clock=lambda: NOON_IN_CALIFORNIA)
        summary = await asyncio.wait_for(runner.run(asyncio.Event()), 120)
    finally:
        await bot.close()
        await board.close()
        pstn.close()

    assert summary.dials == 5 and summary.connected == 3, summary
    assert sum(live for _, live in pacer.resolved) == 3 and len(pacer.resolved) == 5
    for dialled, live in pacer.resolved:  # each implied dial time falls just after a decision to dial
        since = min((dialled - decided for decided in pacer.decided if decided <= dialled + 0.05), default=None)
        assert since is not None and since < 0.75, (live, since, pacer.decided, pacer.resolved)
