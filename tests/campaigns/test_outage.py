"""A case store outage in the middle of a campaign (issue 14, probe 13): the runner stops dialling, keeps
the calls that are up, retries, and resumes once the database is back; the attempts closed meanwhile are
written then. The outage is real: the test database refuses new connections and its sessions are killed."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from campaigns.hopper import Hopper
from campaigns.runner import CampaignRunner, RunnerConfig
from campaigns.service import CampaignSpec, change_status, create_campaign
from cases import Store
from cases.models import Attempt, AttemptOutcome
from cases.segments import Segment
from compliance import CampaignFacts, ComplianceGate
from dialer.pacing.modes import DialMode
from dialer.pacing.view import ProgressivePacer
from dialer.simulate.agent_bot import AgentBot
from dialer.simulate.pstn import Persona, PstnSimulator, Script
from dialer.switchboard import Switchboard, Trunk
from tests.campaigns.test_campaign_run import NOON_IN_CALIFORNIA, NUMBERS, seed
from tests.conftest import PG_URL, _truncate_all

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_store: Store) -> Iterator[Store]:
    _truncate_all(pg_store)
    yield pg_store


class Outage:
    """Cuts the store's database off: new connections refused, open ones terminated; `end` lets them in."""

    def __init__(self, store: Store) -> None:
        self.name = make_url(store.url).database
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")

    def begin(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                               {"name": self.name})

    def end(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))


async def until(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds * 20)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_probe_13_a_database_outage_pauses_dialling_keeps_calls_up_and_resumes(pg: Store,
                                                                                    tmp_path: Path) -> None:
    seed(pg)
    pstn = PstnSimulator(scripts={number: Script(Persona.PERSON, ring_s=0.3, talk_s=5.0) for number in NUMBERS})
    await pstn.start()
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=2, keepalive_s=0), password_of={"a1": "p1"}.get,
                        recordings=tmp_path / "recordings")
    await board.start()
    bot = AgentBot("a1", "p1", board.address)
    outage = Outage(pg)
    stop = asyncio.Event()
    try:
        assert await bot.start()
        board.login(bot.user)
        await asyncio.wait_for(board.agents["a1"].up.wait(), 10)
        with pg.session() as session:
            campaign = create_campaign(session, CampaignSpec("outage", Segment(jurisdictions=("US",)),
                                                             DialMode.PROGRESSIVE, agent_group="collectors"), actor="t")
            change_status(session, campaign.id, "start", actor="t")
            session.expunge(campaign)
        runner = CampaignRunner(store=pg, campaign=campaign, switchboard=board, policy=ProgressivePacer(),
                                hopper=Hopper(pg, ComplianceGate(pg), Segment(jurisdictions=("US",)),
                                              CampaignFacts(campaign_id=campaign.id)),
                                config=RunnerConfig(amd=False, ring_timeout_s=5, tick_s=0.2, wrap_s=0.5),
                                clock=lambda: NOON_IN_CALIFORNIA)
        run = asyncio.ensure_future(runner.run(stop))
        await until(lambda: board.connections, 15, "a call bridged to the agent")
        outage.begin()
        try:
            dialled, live = len(pstn.calls), next(iter(board.connections))
            await asyncio.sleep(3.0)
            assert not run.done(), run.exception() if run.done() else None  # the runner survives
            assert live in board.connections and not live.debtor.ended.is_set()  # the call stays up
            await until(lambda: live.debtor.ended.is_set(), 10, "the call's natural end during the outage")
            await asyncio.sleep(2.0)  # the agent is free again, yet nothing is dialled without the store
            assert len(pstn.calls) == dialled and not run.done()
        finally:
            outage.end()
        await until(lambda: len(pstn.calls) > dialled, 30, "dialling to resume")
        stop.set()
        summary = await asyncio.wait_for(run, 60)
    finally:
        stop.set()
        outage.end()
        outage.admin.dispose()
        await bot.close()
        await board.close()
        pstn.close()
    with pg.session() as session:
        rows = session.execute(select(Attempt.outcome, func.count()).group_by(Attempt.outcome)).all()
    outcomes = {outcome: count for outcome, count in rows}
    assert AttemptOutcome.IN_FLIGHT not in outcomes, outcomes  # the close written during the outage landed
    assert outcomes.get(AttemptOutcome.ANSWERED, 0) >= 2 and sum(outcomes.values()) == summary.dials
