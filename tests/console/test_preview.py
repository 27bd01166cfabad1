"""Preview dialling on the agent desktop (issue 16: "see the case, then dial or skip") over a real floor: the
PSTN simulator as carrier and debtors, agent bots registered with a real switchboard, the campaign host
running a preview campaign's runner, and the console API on a real aiohttp server. Asserted: each agent is
offered a case of their own (masked, with the gate's decision); another agent can neither dial it nor is
offered it; a skip is audited and rests the case; a dial the gate now refuses is not placed; a dial rings the
debtor and bridges the answered call to the agent who previewed it, recorded, its attempt naming them; the
promises taken on it (the runner's for the disposition, the desk's) are dated by the floor's clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from campaigns.desk import AgentDesk, Wish
from campaigns.events import EventBus
from campaigns.host import CampaignHost
from campaigns.hopper import Hopper
from campaigns.lease import CampaignLease
from campaigns.runner import CampaignRunner, RunnerConfig
from campaigns.service import CampaignSpec, change_status, create_campaign
from cases import Store
from cases.models import (
    Account,
    Address,
    Attempt,
    AttemptOutcome,
    AuditEntry,
    Campaign,
    Debtor,
    HoldKind,
    Phone,
    PhoneKind,
    Product,
    Promise,
    Role,
    User,
)
from cases.segments import Segment
from compliance import CampaignFacts, ComplianceGate, place_hold
from console import build_app
from dialer.agents import AgentState
from dialer.pacing.modes import DialMode, PreviewPacer
from dialer.simulate.agent_bot import AgentBot
from dialer.simulate.pstn import Persona, PstnSimulator, Script
from dialer.switchboard import Switchboard, Trunk
from tests.conftest import REDIS_URL
from tests.console.conftest import bearer, mint_token

NOON_IN_CALIFORNIA = datetime(2026, 11, 30, 20, 0, tzinfo=timezone.utc)
NUMBERS = ["+14155550101", "+14155550102", "+14155550103"]
PASSWORDS = {"amy": "amy-sip-password", "bob": "bob-sip-password"}


def seed(store: Store) -> list[int]:
    """Three Californian debtors, the first the most overdue (offered first). Their account ids."""
    ids = []
    with store.session() as session:
        for n, number in enumerate(NUMBERS):
            debtor = Debtor(external_ref=f"D{n}", full_name=f"Debtor {n}", language="en",
                            national_id=f"55501012345678{n}")
            debtor.addresses.append(Address(region="CA", country="US", timezone="America/Los_Angeles"))
            debtor.phones.append(Phone(e164=number, kind=PhoneKind.MOBILE, consent_automated=True))
            session.add(debtor)
            session.flush()
            account = Account(debtor_id=debtor.id, creditor="Acme", account_ref=f"A{n}", product=Product.CREDIT_CARD,
                              currency="USD", principal=Decimal(1000), balance=Decimal(900 - 100 * n),
                              overdue_amount=Decimal(200), due_date=date(2026, 9, 1), jurisdiction="US")
            session.add(account)
            session.flush()
            ids.append(account.id)
    return ids


async def _until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_preview_offers_skips_refuses_and_dials_for_the_previewing_agent(sqlite_store: Store,
                                                                               tmp_path: Path) -> None:
    store, clock = sqlite_store, (lambda: NOON_IN_CALIFORNIA)
    first, second, third = seed(store)
    tokens = {name: mint_token(store, Role.AGENT, username=name) for name in PASSWORDS}
    pstn = PstnSimulator(scripts={number: Script(Persona.PERSON, ring_s=0.5, talk_s=3.0) for number in NUMBERS})
    await pstn.start()
    board = Switchboard(trunk=Trunk(*pstn.address, min_ring_s=0, keepalive_s=0), password_of=PASSWORDS.get,
                        recordings=tmp_path / "recordings")
    await board.start()
    bus = EventBus()
    desk = AgentDesk(board, bus=bus)
    with store.session() as session:
        campaign = create_campaign(session, CampaignSpec("preview", Segment(jurisdictions=("US",)), DialMode.PREVIEW,
                                                         agent_group="collectors"), actor="manager")
        change_status(session, campaign.id, "start", actor="manager")
        campaign_id = campaign.id

    def build(running: Campaign, lease: CampaignLease, allowed: Callable[[], bool]) -> CampaignRunner:
        hopper = Hopper(store, ComplianceGate(store), Segment(jurisdictions=("US",)),
                        CampaignFacts(campaign_id=running.id))
        return CampaignRunner(store=store, campaign=running, hopper=hopper, switchboard=board, policy=PreviewPacer(),
                              config=RunnerConfig(ring_timeout_s=10), clock=clock, desk=desk,
                              dialling_allowed=allowed, lease=lease, disposition=lambda agent: "promise_to_pay")

    host = CampaignHost(store=store, build=build, clock=clock)
    stop = asyncio.Event()
    bots = [AgentBot(name, password, board.address) for name, password in PASSWORDS.items()]
    redis_client = aioredis.from_url(REDIS_URL)
    hosting, ticking = asyncio.ensure_future(host.run(stop)), asyncio.ensure_future(desk.run(stop))
    try:
        for bot in bots:
            assert await bot.start()
            desk.set_state(bot.user, Wish.READY)
        await _until(lambda: all(desk.state(name).state is AgentState.READY for name in PASSWORDS))
        await _until(lambda: campaign_id in host.hosted)
        # The API's own clock is the real one (as under `dunline serve --at`); the floor's is the host's.
        app = build_app(store=store, redis_client=redis_client, desk=desk, bus=bus, host=host)
        async with TestClient(TestServer(app)) as client:
            async def call(method: str, path: str, agent: str, body: Any = None) -> tuple[int, Any]:
                response = await client.request(method, path, json=body, headers=bearer(tokens[agent]))
                return response.status, await response.json()

            status, offer = await call("GET", "/api/desk/preview/next", "amy")
            assert status == 200, offer
            preview = offer["preview"]
            assert (preview["account_id"], preview["campaign_id"]) == (first, campaign_id)
            assert preview["number"] == "+141****0101" and preview["decision"]["allowed"] is True
            assert offer["debtor"]["national_id"] == "55*********6780"  # masked as the case pop masks it
            assert (await call("GET", "/api/desk/preview/next", "amy"))[1]["preview"]["account_id"] == first  # kept
            status, theirs = await call("GET", "/api/desk/preview/next", "bob")
            assert theirs["preview"]["account_id"] == second  # never the case offered to amy

            status, refused = await call("POST", f"/api/desk/preview/{first}/dial", "bob")
            assert (status, refused["error_id"]) == (409, "not_offered")
            status, skipped = await call("POST", f"/api/desk/preview/{second}/skip", "bob", {"reason": "wrong stage"})
            assert status == 200, skipped
            with store.reading() as session:
                [audit] = session.scalars(select(AuditEntry).where(AuditEntry.action == "preview.skipped")).all()
            assert (audit.actor, audit.entity_id, audit.details["reason"]) == ("bob", str(second), "wrong stage")
            status, offer = await call("GET", "/api/desk/preview/next", "bob")
            assert offer["preview"]["account_id"] == third  # the skipped case rests

            with store.session() as session:  # the debtor asks us to stop calling before bob dials
                debtor_id = session.get(Account, third).debtor_id  # type: ignore[union-attr]
                place_hold(session, kind=HoldKind.CEASE, actor="t", source="agent", debtor_id=debtor_id,
                           starts_at=NOON_IN_CALIFORNIA)
            status, refused = await call("POST", f"/api/desk/preview/{third}/dial", "bob")
            assert (status, refused["error_id"]) == (409, "gate_refused"), refused
            assert desk.state("bob").state is AgentState.READY  # released: free for the next case

            status, dialled = await call("POST", f"/api/desk/preview/{first}/dial", "amy")
            assert status == 201, dialled
            attempt_id = dialled["attempt_id"]
            await _until(lambda: desk.state("amy").state is AgentState.ON_CALL)
            assert desk.pool.agents["amy"].call_id == str(attempt_id) and desk.state("bob").state is AgentState.READY
            status, pop = await call("GET", f"/api/desk/case/{attempt_id}", "amy")
            assert status == 200 and pop["attempt"]["account_id"] == first
            await _until(lambda: desk.state("amy").state is not AgentState.ON_CALL)

            def closed() -> Attempt | None:
                with store.reading() as session:
                    attempt = session.get(Attempt, attempt_id)
                    return attempt if attempt is not None and attempt.ended_at is not None else None
            await _until(lambda: closed() is not None)
            status, promised = await call("POST", f"/api/desk/attempts/{attempt_id}/promise", "amy",
                                          {"amount": "100", "promised_for": "2026-12-05"})
            assert status == 201, promised
        attempt = closed()
        assert attempt is not None and attempt.outcome is AttemptOutcome.ANSWERED and attempt.conversation
        with store.reading() as session:
            assert attempt.agent_id == session.scalar(select(User.id).where(User.username == "amy"))
            attempts_made = session.scalars(select(Attempt.account_id)).all()
        assert attempts_made == [first]  # nothing dialled for the refused or skipped cases
        assert attempt.recording_path is not None and Path(attempt.recording_path).exists()
        with store.reading() as session:  # dated by the floor's clock: the wallboard's "promises today" sees them
            made = session.scalars(select(Promise).order_by(Promise.id)).all()
        assert [(p.amount, p.created_at) for p in made] == [(Decimal(200), NOON_IN_CALIFORNIA),  # the runner's
                                                            (Decimal(100), NOON_IN_CALIFORNIA)]  # the desk's
    finally:
        stop.set()
        await host.drain(10)
        await hosting
        await ticking
        for bot in bots:
            await bot.close()
        await board.close()
        pstn.close()
        await redis_client.aclose()
