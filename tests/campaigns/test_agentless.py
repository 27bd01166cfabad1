"""An agentless campaign: answered people go to the IVR, which verifies them and takes a "stop calling";
the attempt is closed, the cease hold is in place and the gate refuses the next dial."""

import asyncio
from pathlib import Path

from sqlalchemy import select

from campaigns.hopper import Hopper
from campaigns.routing import CallRouter
from campaigns.runner import CampaignRunner, RunnerConfig
from campaigns.service import CampaignSpec, change_status, create_campaign
from cases import Store
from cases.models import Attempt, AttemptOutcome, AuditEntry, Hold, HoldKind
from cases.segments import Segment
from compliance import CampaignFacts, ComplianceGate
from audio.wav import read_pcm
from dialer.pacing import DialMode, pacer_for
from dialer.simulate.pstn import Persona, PstnSimulator, Script
from dialer.switchboard import Switchboard, Trunk
from ivr.actions import CampaignTerms
from ivr.service import IvrService
from speech.tts import PromptRenderer, Prompts
from tests.campaigns.test_campaign_run import NOON_IN_CALIFORNIA
from tests.ivr.test_runtime import DOB, ID_PREFIX, seed

NUMBER = "+14155550100"


async def test_agentless_campaign_runs_the_ivr_and_honours_stop_calling(sqlite_store: Store, tmp_path: Path) -> None:
    seed(sqlite_store)
    pstn = PstnSimulator(scripts={NUMBER: Script(Persona.PERSON, ring_s=0.3, talk_s=300,
                                                 answers=("2", f"{DOB}#", f"{ID_PREFIX}#", "5"))})
    await pstn.start()
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=2, keepalive_s=0), recordings=tmp_path / "rec")
    await board.start()
    prompts = Prompts(PromptRenderer(tmp_path / "prompts"))
    ivr = IvrService(sqlite_store, lambda prompt, text, language: read_pcm(prompts.prompt(prompt, text, language)),
                     terms=CampaignTerms())
    try:
        with sqlite_store.session() as session:
            campaign = create_campaign(session, CampaignSpec("self-service", Segment(jurisdictions=("US",)),
                                                             DialMode.AGENTLESS, ivr_flow="collections"), actor="m")
            change_status(session, campaign.id, "start", actor="m")
            session.expunge(campaign)
        hopper = Hopper(sqlite_store, ComplianceGate(sqlite_store), Segment(jurisdictions=("US",)),
                        CampaignFacts(campaign_id=campaign.id))
        runner = CampaignRunner(store=sqlite_store, campaign=campaign, hopper=hopper, switchboard=board,
                                policy=pacer_for(DialMode.AGENTLESS, max_concurrent=2),
                                router=CallRouter(board=board, store=sqlite_store, ivr=ivr),
                                config=RunnerConfig(amd=False, ring_timeout_s=5), clock=lambda: NOON_IN_CALIFORNIA)
        summary = await asyncio.wait_for(runner.run(asyncio.Event()), 150)
    finally:
        await board.close()
        pstn.close()
    assert summary.dials == 1 and summary.outcomes == {"answered": 1}
    with sqlite_store.session() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.outcome is AttemptOutcome.ANSWERED and attempt.conversation and attempt.recording_path
        hold = session.scalars(select(Hold)).one()
        assert hold.kind is HoldKind.CEASE and hold.source == "ivr"
        run = session.scalars(select(AuditEntry).where(AuditEntry.action == "ivr.run")).one()
        assert run.details["path"][-1] == "cease_noted"


async def test_item_9a_an_agentless_campaign_on_the_simulated_floor_sends_people_to_the_ivr(
        sqlite_store: Store, tmp_path: Path) -> None:
    """The floor's wiring, not a hand-built runner (which is why the test above never saw 9a): with agent bots
    up and every debtor a person, an agentless campaign bridges nobody to an agent and abandons nobody; each
    answered person runs the IVR flow."""
    from dunline.campaign_floor import FloorPlan, run_simulated
    from tests.campaigns.test_campaign_run import floor_settings
    from tests.campaigns.test_campaign_run import seed as seed_five
    from tests.conftest import REDIS_URL

    seed_five(sqlite_store)
    with sqlite_store.session() as session:
        campaign = create_campaign(session, CampaignSpec("ivr-only", Segment(jurisdictions=("US",)),
                                                         DialMode.AGENTLESS, ivr_flow="collections"), actor="m")
        change_status(session, campaign.id, "start", actor="m")
        session.expunge(campaign)
    plan = FloorPlan(agents=2, rude_agents=0, seconds=12, transcribe=False, ring_s=(0.2, 0.6),
                     mix={Persona.PERSON: 1.0})
    summary = await asyncio.wait_for(run_simulated(floor_settings(sqlite_store, tmp_path), sqlite_store, campaign,
                                                   plan, redis_url=REDIS_URL, clock=lambda: NOON_IN_CALIFORNIA), 60)
    assert summary.dials >= 3 and summary.connected == 0 and summary.abandoned == 0, summary
    with sqlite_store.session() as session:
        attempts = session.scalars(select(Attempt)).all()
        runs = session.scalars(select(AuditEntry).where(AuditEntry.action == "ivr.run")).all()
    answered = [a for a in attempts if a.outcome is AttemptOutcome.ANSWERED]
    assert answered and not any(a.outcome is AttemptOutcome.ABANDONED for a in attempts)
    assert len(runs) == len(answered), (len(runs), [a.outcome for a in attempts])
