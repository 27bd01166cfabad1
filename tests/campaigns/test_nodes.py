"""One campaign across cluster nodes (issue 22) on the real case store: every node holds a lease of its own
and claims from the one hopper, and no case is ever handed to two nodes; a node that dies has only its own
in-flight attempts closed, once its lease lapses; the abandon ledger counts the floor's calls."""

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns import attempts
from campaigns.attempts import CallEnd
from campaigns.drain import campaigns_on, request_drain
from campaigns.hopper import Hopper
from campaigns.host import CampaignHost
from campaigns.lease import LEASE_S, CampaignLease, is_shared, new_owner
from campaigns.recovery import close_interrupted
from campaigns.runner import CampaignRunner, RunnerConfig
from campaigns.service import change_status, create_campaign
from cases import Store
from cases.models import (Account, Address, Attempt, AttemptOutcome, AuditEntry, Campaign, Debtor, Phone, PhoneKind,
                          PhoneOwner, Product, utcnow)
from compliance import CampaignFacts, ComplianceGate
from dialer.ledger import AbandonLedger
from dialer.pacing import DialMode, pacer_for
from dialer.simulate.pstn import Persona, PstnSimulator, Script
from dialer.switchboard import Switchboard, Trunk
from tests.campaigns.test_campaigns import NOW, TODAY, spec
from tests.campaigns.test_lease import ELSEWHERE, Clock, campaigns
from tests.conftest import _truncate_all
from tests.console.test_preview import _until

CASES = 40
NODE_A, NODE_B = ELSEWHERE + "node=a", ELSEWHERE + "node=b"


@pytest.fixture
def pg(pg_store: Store) -> Store:
    """The session's PostgreSQL store, emptied: row locks are the point, SQLite has none."""
    _truncate_all(pg_store)
    return pg_store


def many_cases(store: Store) -> None:
    with store.session() as session:
        for n in range(CASES):
            debtor = Debtor(external_ref=f"d{n}", full_name=f"d{n}")
            debtor.addresses.append(Address(region="广东", country="CN", timezone="Asia/Shanghai"))
            debtor.phones.append(Phone(e164=f"+86138{n:08d}", kind=PhoneKind.MOBILE, owner=PhoneOwner.DEBTOR,
                                       consent_automated=True))
            session.add(debtor)
            session.flush()
            session.add(Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"a{n}", product=Product.CREDIT_CARD,
                                currency="CNY", principal=Decimal(1000 + n), balance=Decimal(1000 + n),
                                overdue_amount=Decimal(1000 + n), due_date=TODAY - timedelta(days=45),
                                jurisdiction="CN"))


def test_a_node_owner_shares_a_campaign_and_a_lone_one_does_not() -> None:
    assert is_shared(new_owner("n1")) and new_owner("n1").endswith(":node=n1")
    assert not is_shared(new_owner())


def test_node_leases_share_a_campaign_and_exclude_a_lone_runner(store: Store) -> None:
    (campaign,) = campaigns(store, "floor")
    clock = Clock()
    a, b = (CampaignLease(store, campaign, owner, clock=clock) for owner in (NODE_A, NODE_B))
    lone = CampaignLease(store, campaign, ELSEWHERE + "lone", clock=clock)
    assert a.try_acquire() is None and b.try_acquire() is None  # both nodes run it
    assert lone.try_acquire() in (NODE_A, NODE_B)  # a node without its id does not join the cluster's campaign
    a.release()
    b.release()
    assert lone.try_acquire() is None
    assert a.try_acquire() == lone.owner


@pytest.mark.postgres
def test_two_nodes_claiming_one_campaign_at_once_never_dial_a_case_twice(pg: Store) -> None:
    many_cases(pg)
    (campaign,) = campaigns(pg, "floor")
    facts = CampaignFacts(campaign_id=campaign)
    gate = ComplianceGate(pg)
    hopper = Hopper(pg, gate, spec().segment, facts)
    leads = hopper.leads(NOW, CASES, today=TODAY)
    assert len(leads) == CASES
    start = threading.Barrier(4)
    claimed: dict[str, list[int]] = {}

    def node(owner: str, order: list) -> None:  # type: ignore[type-arg]
        mine = Hopper(pg, ComplianceGate(pg), spec().segment, facts)
        start.wait()
        claimed[owner] = [i for i in (mine.claim(lead, NOW, owner=owner) for lead in order) if i is not None]

    # four nodes, each with the whole hopper's leads in its buffer, two walking it each way
    threads = [threading.Thread(target=node, args=(f"{ELSEWHERE}node={n}", leads if n % 2 else leads[::-1]))
               for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with pg.session() as session:
        rows = session.execute(select(Attempt.account_id, Attempt.owner).where(Attempt.campaign_id == campaign)).all()
    per_case = Counter(row.account_id for row in rows)
    assert len(per_case) == CASES and set(per_case.values()) == {1}  # every case dialled, none twice
    assert sum(len(ids) for ids in claimed.values()) == CASES
    assert Counter(row.owner for row in rows) == Counter({owner: len(ids) for owner, ids in claimed.items() if ids})


@pytest.mark.postgres
def test_a_case_another_node_is_claiming_is_skipped_not_waited_for(pg: Store) -> None:
    many_cases(pg)
    (campaign,) = campaigns(pg, "floor")
    hopper = Hopper(pg, ComplianceGate(pg), spec().segment, CampaignFacts(campaign_id=campaign))
    lead = hopper.leads(NOW, 1, today=TODAY)[0]
    with pg.session() as session:  # node A is inside its claim of the case
        session.execute(select(Account.id).where(Account.id == lead.account_id).with_for_update())
        assert hopper.claim(lead, NOW, owner=NODE_B) is None
    assert hopper.claim(lead, NOW, owner=NODE_B) is not None  # free again: B may have it


def test_a_lead_another_node_called_and_closed_since_it_was_fetched_is_not_dialled(store: Store) -> None:
    many_cases(store)
    (campaign,) = campaigns(store, "floor")
    hopper = Hopper(store, ComplianceGate(store), spec().segment, CampaignFacts(campaign_id=campaign))
    lead = hopper.leads(NOW, 1, today=TODAY)[0]  # in both nodes' buffers
    first = hopper.claim(lead, NOW, owner=NODE_A)
    assert first is not None
    with store.session() as session:  # node A's call: busy, closed at once
        attempts.close(session, first, CallEnd(AttemptOutcome.BUSY, NOW + timedelta(seconds=2)))
    assert hopper.claim(lead, NOW + timedelta(seconds=3), owner=NODE_B) is None  # resting: B does not call again
    assert hopper.claim(lead, NOW + timedelta(minutes=16), owner=NODE_B) is not None  # its rest is over


def test_a_dead_nodes_attempts_are_closed_and_the_live_nodes_are_not(store: Store) -> None:
    many_cases(store)
    (campaign,) = campaigns(store, "floor")
    clock = Clock()
    a = CampaignLease(store, campaign, NODE_A, lease_s=5, clock=clock)
    b = CampaignLease(store, campaign, NODE_B, lease_s=5, clock=clock)
    assert a.try_acquire() is None and b.try_acquire() is None
    hopper = Hopper(store, ComplianceGate(store), spec().segment, CampaignFacts(campaign_id=campaign))
    first, second = hopper.leads(NOW, 2, today=TODAY)
    dead = hopper.claim(first, NOW, owner=NODE_A)
    live = hopper.claim(second, NOW, owner=NODE_B)
    clock.now += timedelta(seconds=3)
    assert close_interrupted(store, NOW, wall_now=clock.now) == []  # both leases live: nothing is closed
    assert b.renew()  # node B renews; node A was killed and does not
    clock.now += timedelta(seconds=3)
    assert close_interrupted(store, NOW + timedelta(minutes=1), wall_now=clock.now) == [dead]
    with store.session() as session:
        assert session.get(Attempt, dead).outcome is AttemptOutcome.INTERRUPTED  # type: ignore[union-attr]
        assert session.get(Attempt, live).outcome is AttemptOutcome.IN_FLIGHT  # type: ignore[union-attr]
    assert not a.renew()  # its lease is gone with it: had it only stalled, it learns to stop dialling
    assert b.renew()


def test_a_dead_nodes_lease_lapses_within_the_lease_time_and_a_new_node_takes_its_place(store: Store) -> None:
    (campaign,) = campaigns(store, "floor")
    clock = Clock()
    assert CampaignLease(store, campaign, NODE_A, clock=clock).try_acquire() is None
    lone = CampaignLease(store, campaign, ELSEWHERE + "lone", clock=clock)
    clock.now += timedelta(seconds=LEASE_S - 1)
    assert lone.try_acquire() == NODE_A
    clock.now += timedelta(seconds=2)
    assert lone.try_acquire() is None


def test_the_ledger_counts_the_floors_calls_with_its_own() -> None:
    ledger = AbandonLedger("1", window_seconds=3600, target=0.03)
    for at in range(10):
        ledger.record(float(at), abandoned=False)
    assert ledger.rate(10.0) == 0.0 and ledger.headroom(10.0) == pytest.approx(0.3)
    ledger.elsewhere = (3, 90)  # the other nodes abandoned 3 of their 90
    assert ledger.counts(10.0) == (3, 100) and ledger.rate(10.0) == pytest.approx(0.03)
    assert ledger.headroom(10.0) == pytest.approx(0.0)  # the floor is at its target: this node may not abandon


@pytest.mark.postgres
def node_host(store: Store, owner: str, board: Switchboard, lease_s: float = LEASE_S) -> CampaignHost:
    """A cluster node's campaign host whose runners dial agentless, two calls at a time, ringing 3 s at most."""
    def build(running: Campaign, lease: CampaignLease, allowed: Callable[[], bool]) -> CampaignRunner:
        hopper = Hopper(store, ComplianceGate(store), spec().segment, CampaignFacts(campaign_id=running.id))
        return CampaignRunner(store=store, campaign=running, hopper=hopper, switchboard=board,
                              policy=pacer_for(DialMode.AGENTLESS, max_concurrent=2),
                              config=RunnerConfig(amd=False, ring_timeout_s=3), clock=lambda: NOW,
                              dialling_allowed=allowed, lease=lease)
    return CampaignHost(store=store, build=build, clock=lambda: NOW, poll_s=0.1, owner=owner, lease_s=lease_s)


def agentless_floor(store: Store) -> int:
    """The cases and a running agentless campaign calling them; its id."""
    many_cases(store)
    with store.session() as session:
        campaign = create_campaign(session, spec(name="floor", dial_mode=DialMode.AGENTLESS,
                                                 agent_group=None, ivr_flow="collections"), actor="m")
        change_status(session, campaign.id, "start", actor="m")
        return campaign.id


async def test_two_nodes_run_one_campaign_and_a_drained_node_stops_with_no_call_dropped(pg: Store,
                                                                                      tmp_path: Path) -> None:
    """Two campaign hosts as two cluster nodes, each with its own switchboard, run one agentless campaign
    against one simulated PSTN. Node A is drained once it has calls up: they end as they would (no answer,
    cancelled at the ring timeout) before its runner stops, it takes no lease and dials nobody after, node B dials the rest."""
    campaign_id = agentless_floor(pg)
    pstn = PstnSimulator(scripts={f"+86138{n:08d}": Script(Persona.NO_ANSWER) for n in range(CASES)})
    await pstn.start()
    boards = [Switchboard(trunk=Trunk(*pstn.address, min_ring_s=0, keepalive_s=0), recordings=tmp_path / node)
              for node in "ab"]
    for board in boards:
        await board.start()

    a, b = node_host(pg, NODE_A, boards[0]), node_host(pg, NODE_B, boards[1])
    stop = asyncio.Event()
    hosts = [asyncio.ensure_future(host.run(stop)) for host in (a, b)]

    def owned() -> Counter[str | None]:
        with pg.session() as session:
            return Counter(session.scalars(select(Attempt.owner).where(Attempt.campaign_id == campaign_id)).all())

    def in_flight(owner: str) -> int:
        with pg.session() as session:
            return len(session.scalars(select(Attempt.id).where(Attempt.outcome == AttemptOutcome.IN_FLIGHT,
                                                                Attempt.owner == owner)).all())

    try:
        await _until(lambda: in_flight(NODE_A) >= 1 and owned()[NODE_B] >= 2)
        with pg.session() as session:  # node A has a call ringing
            request_drain(session, "a", actor="ops", now=NOW)
        await _until(lambda: not a.hosted)  # its runner stopped once its calls ended
        drained = owned()[NODE_A]
        assert sum(owned().values()) < CASES  # it stopped for the drain, not for want of cases
        with pg.session() as session:
            assert campaigns_on(session, "a", utcnow()) == [] and campaigns_on(session, "b", utcnow()) == [campaign_id]
        await _until(lambda: sum(owned().values()) == CASES and in_flight(NODE_B) == 0, seconds=120)
    finally:
        stop.set()
        await asyncio.wait(hosts, timeout=20)
        await asyncio.gather(a.drain(10), b.drain(10))  # the runners and their calls, on a failure too
        for board in boards:
            await board.close()
        pstn.close()
    assert owned()[NODE_A] == drained and a.draining  # nobody dialled by the drained node after
    with pg.session() as session:
        rows = session.execute(select(Attempt.account_id, Attempt.owner, Attempt.outcome)
                               .where(Attempt.campaign_id == campaign_id)).all()
    assert Counter(row.account_id for row in rows) == Counter({account: 1 for account in {r.account_id for r in rows}})
    assert {row.outcome for row in rows} == {AttemptOutcome.NO_ANSWER}  # every call ended as it would: none dropped


async def test_a_node_runners_ledger_reads_the_other_nodes_calls_and_not_its_own(store: Store,
                                                                                 tmp_path: Path) -> None:
    many_cases(store)
    (campaign_id,) = campaigns(store, "floor")
    with store.session() as session:
        accounts = session.scalars(select(Account.id)).all()
        for n, (owner, outcome) in enumerate([(NODE_B, AttemptOutcome.ABANDONED), (NODE_B, AttemptOutcome.ANSWERED),
                                              (None, AttemptOutcome.ANSWERED), (NODE_A, AttemptOutcome.ABANDONED)]):
            session.add(Attempt(account_id=accounts[n], number_e164="+8613800000001", campaign_id=campaign_id,
                                started_at=NOW, answered_at=NOW, outcome=outcome, conversation=True, owner=owner))
        campaign = session.get(Campaign, campaign_id)
        session.expunge(campaign)
    lease = CampaignLease(store, campaign_id, NODE_A)
    assert lease.try_acquire() is None
    runner = CampaignRunner(store=store, campaign=campaign, switchboard=Switchboard(trunk=Trunk("127.0.0.1", 9)),
                            hopper=Hopper(store, ComplianceGate(store), spec().segment,
                                          CampaignFacts(campaign_id=campaign_id)),
                            policy=pacer_for(DialMode.PREDICTIVE), clock=lambda: NOW + timedelta(hours=1),
                            lease=lease)
    await runner._rebuild_ledger()
    # node B's two calls and the one of an earlier run count; node A's own come from its ledger as they happen
    assert runner.ledger.counts(0.0) == (1, 3) and runner.ledger.elsewhere == (1, 3)


async def test_a_cluster_nodes_host_closes_a_dead_peers_calls_within_a_lease_period(store: Store) -> None:
    many_cases(store)
    (campaign,) = campaigns(store, "floor")
    long_ago = utcnow() - timedelta(minutes=5)
    dead = CampaignLease(store, campaign, NODE_A, lease_s=1, clock=lambda: long_ago)  # killed: never renewed
    assert dead.try_acquire() is None
    hopper = Hopper(store, ComplianceGate(store), spec().segment, CampaignFacts(campaign_id=campaign))
    attempt = hopper.claim(hopper.leads(NOW, 1, today=TODAY)[0], NOW, owner=NODE_A)

    def build(running: Campaign, lease: CampaignLease, allowed: Callable[[], bool]) -> CampaignRunner:
        raise AssertionError("the campaign is not running: no runner")
    host = CampaignHost(store=store, build=build, clock=lambda: NOW, owner=NODE_B, lease_s=0.3)
    await host.poll()
    with store.session() as session:
        assert session.get(Attempt, attempt).outcome is AttemptOutcome.IN_FLIGHT  # type: ignore[union-attr]
    await asyncio.sleep(0.35)
    await host.poll()  # a lease period on: the sweep
    with store.session() as session:
        assert session.get(Attempt, attempt).outcome is AttemptOutcome.INTERRUPTED  # type: ignore[union-attr]
    assert not dead.renew()


async def test_a_paused_runner_keeps_its_lease_while_its_calls_ring_on(store: Store, tmp_path: Path) -> None:
    """A paused campaign's runner waits for its calls to end, renewing its lease meanwhile: a call outlasting
    the lease was taken by the nodes' sweeps for a dead runner's and closed as interrupted while it still rang
    (its case no longer counted in flight), as bench/cluster.py found."""
    campaign_id = agentless_floor(store)
    pstn = PstnSimulator(scripts={f"+86138{n:08d}": Script(Persona.NO_ANSWER) for n in range(CASES)})
    await pstn.start()
    boards = [Switchboard(trunk=Trunk(*pstn.address, min_ring_s=0, keepalive_s=0)) for _ in "ab"]
    for board in boards:
        await board.start()
    hosts = [node_host(store, owner, board, lease_s=0.6) for owner, board in zip((NODE_A, NODE_B), boards)]
    stop = asyncio.Event()
    running = [asyncio.ensure_future(host.run(stop)) for host in hosts]

    def outcomes() -> Counter[AttemptOutcome]:
        with store.session() as session:
            return Counter(session.scalars(select(Attempt.outcome).where(Attempt.campaign_id == campaign_id)).all())

    try:
        await _until(lambda: outcomes()[AttemptOutcome.IN_FLIGHT] >= 2)
        with store.session() as session:
            change_status(session, campaign_id, "pause", actor="m")
        await _until(lambda: not any(host.hosted for host in hosts), seconds=20)  # the calls rang out (3 s)
    finally:
        stop.set()
        await asyncio.wait(running, timeout=20)
        await asyncio.gather(*(host.drain(10) for host in hosts))
        for board in boards:
            await board.close()
        pstn.close()
    with store.session() as session:
        assert not session.scalars(select(AuditEntry).where(AuditEntry.action == "attempt.interrupted")).all()
    assert set(outcomes()) == {AttemptOutcome.NO_ANSWER}
