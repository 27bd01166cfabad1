"""Issue 20's acceptance: a Mandarin campaign on the simulated floor. Real SIP and RTP, the PSTN simulator's
people answering in Mandarin and two agent bots speaking it (dialer/simulate/speakers.py: espeak-ng's
Mandarin, synthetic; each person greets, then answers the agent with a sentence), one of them threatening; the after-call jobs carry the campaign's language, so the
worker transcribes them with the multilingual Whisper base and the transcripts are screened with the Chinese
lexicon. Asserted: every job is in Mandarin, every answered call's transcript is Chinese, and the rude
agent's call is flagged for its threat from the Chinese transcript, on the agent's side. The English
counterpart is tests/campaigns/test_campaign_run.py."""

import asyncio
import re
import threading
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import redis
from sqlalchemy import select

from campaigns.aftercall import AfterCall, ScreenTranscripts, aftercall_job_id
from campaigns.events import ScreenPop, drain
from campaigns.hopper import Hopper
from campaigns.runner import CampaignRunner, RunnerConfig
from campaigns.service import CampaignSpec, change_status, create_campaign
from cases import Store
from cases.models import Account, Address, Attempt, AttemptOutcome, Debtor, Phone, PhoneKind, Product, ScreeningFinding
from cases.segments import Segment
from compliance import CampaignFacts, ComplianceGate
from dialer.pacing.modes import DialMode
from dialer.pacing.view import ProgressivePacer
from dialer.simulate.agent_bot import AgentBot
from dialer.simulate.pstn import Persona, PstnSimulator, Script
from dialer.simulate.speakers import agent_speeches, greeting, reply
from dialer.switchboard import Switchboard, Trunk
from recordings.jobs import JobQueue
from recordings.transcripts import TranscriptStore
from recordings.worker import run_worker
from speech.tts import PromptRenderer
from tests.conftest import REDIS_URL

NOON_IN_CALIFORNIA = datetime(2026, 11, 30, 20, 0, tzinfo=timezone.utc)
NUMBERS = ["+14155550201", "+14155550202", "+14155550203", "+14155550204"]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SEGMENT = Segment(jurisdictions=("US",), languages=("zh",))  # a Mandarin campaign: its segment's one language


def seed(store: Store) -> None:
    """Mandarin-speaking debtors in California (the US pack's calling window applies to them)."""
    with store.session() as session:
        for n, number in enumerate(NUMBERS):
            debtor = Debtor(external_ref=f"Z{n}", full_name=f"张{n}", language="zh")
            debtor.addresses.append(Address(region="CA", country="US", timezone="America/Los_Angeles"))
            debtor.phones.append(Phone(e164=number, kind=PhoneKind.MOBILE, consent_automated=True))
            session.add(debtor)
            session.flush()
            session.add(Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"Z{n}", product=Product.CREDIT_CARD,
                                currency="USD", principal=Decimal(1000), balance=Decimal(500 + 100 * n),
                                overdue_amount=Decimal(200), due_date=date(2026, 9, 1), jurisdiction="US"))


async def test_issue20_a_mandarin_campaign_is_transcribed_in_chinese_and_its_threat_flagged(
        sqlite_store: Store, tmp_path: Path, redis_prefix: str) -> None:
    seed(sqlite_store)
    renderer = PromptRenderer(tmp_path / "tts")
    polite, rude = agent_speeches(renderer, "zh", agents=2, rude=1)[::-1]
    scripts = {number: Script(Persona.PERSON, ring_s=0.5, talk_s=11.0) for number in NUMBERS[:3]}
    scripts[NUMBERS[3]] = Script(Persona.BUSY)
    pstn = PstnSimulator(scripts=scripts, greeting_voice=greeting(renderer, "zh"), reply_voice=reply(renderer, "zh"))
    await pstn.start()
    client = redis.Redis.from_url(REDIS_URL)
    transcripts = TranscriptStore(client, f"{redis_prefix}:transcripts")
    jobs = JobQueue(client, prefix=redis_prefix, transcripts=transcripts)
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=2, keepalive_s=0),
                        password_of={"polite": "p1", "rude": "p2"}.get, recordings=tmp_path / "recordings")
    await board.start()
    bots = [AgentBot("polite", "p1", board.address, speech=polite), AgentBot("rude", "p2", board.address, speech=rude)]
    try:
        for bot in bots:
            assert await bot.start()
            board.login(bot.user)
        await asyncio.wait_for(asyncio.gather(*(leg.up.wait() for leg in board.agents.values())), 10)
        with sqlite_store.session() as session:
            campaign = create_campaign(session, CampaignSpec("cn", SEGMENT, DialMode.PROGRESSIVE,
                                                             agent_group="collectors"), actor="manager")
            change_status(session, campaign.id, "start", actor="manager", now=NOON_IN_CALIFORNIA)
            session.expunge(campaign)
        hopper = Hopper(sqlite_store, ComplianceGate(sqlite_store), SEGMENT, CampaignFacts(campaign_id=campaign.id))
        runner = CampaignRunner(store=sqlite_store, campaign=campaign, hopper=hopper, switchboard=board,
                                policy=ProgressivePacer(), config=RunnerConfig(amd=False, ring_timeout_s=5),
                                clock=lambda: NOON_IN_CALIFORNIA, after_call=AfterCall(sqlite_store, jobs))
        with runner.desk.bus.subscribe(lambda event: isinstance(event, ScreenPop)) as screen_pops:
            summary = await asyncio.wait_for(runner.run(asyncio.Event()), 120)
            taken_by = {pop.context["account_id"]: pop.agent_id for pop in drain(screen_pops)}
        stop = threading.Event()
        timer = asyncio.get_running_loop().call_later(300, stop.set)  # a missing job fails below, not hangs
        # no language preloaded: the worker loads the model each job's language asks for
        worked = await asyncio.to_thread(run_worker, REDIS_URL, prefix=redis_prefix, transcript_prefix=transcripts.prefix,
                                         block_s=0.2, max_jobs=3, stop=stop, after=ScreenTranscripts(sqlite_store.url))
        timer.cancel()
    finally:
        for bot in bots:
            await bot.close()
        await board.close()
        pstn.close()

    assert summary.dials == 4 and summary.connected == 3
    assert worked == 3
    with sqlite_store.session() as session:
        answered = session.scalars(select(Attempt).where(Attempt.outcome == AttemptOutcome.ANSWERED)).all()
        assert len(answered) == 3
        heard = {}
        for attempt in answered:
            assert jobs.status(aftercall_job_id(attempt.id))["language"] == "zh"
            record = transcripts.get(aftercall_job_id(attempt.id))
            assert record is not None and record.transcript.language == "zh"
            assert record.engine["model"] == "whisper-base"
            heard[attempt.id] = record.transcript
        for transcript in heard.values():  # both sides in Chinese characters, no English guesses
            for side in ("debtor", "agent"):
                text = transcript.text(side)
                assert CHINESE.search(text) and not re.search(r"[A-Za-z]{3,}", text), (side, text)
        findings = session.scalars(select(ScreeningFinding)).all()
        threats = [f for f in findings if f.category == "threat_violence" and f.speaker == "agent"]
        assert threats, [(f.category, f.speaker, f.excerpt) for f in findings]
        assert all(CHINESE.search(f.excerpt) for f in threats)
        assert {taken_by[f.account_id] for f in threats} == {"rude"}  # the threatening agent's calls, only
