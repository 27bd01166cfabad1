"""The agent desktop's case API (issue 16): the case that pops for a call, and what the agent records about it —
disposition, promise (read back), plan, callback inside the lawful window, note — each landing in the case store
with the agent as its author and an audit row. A real aiohttp server over the real store (SQLite and PostgreSQL),
real tokens, and the real agent pool of the desk for "the agent bridged to the call"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from campaigns import attempts
from campaigns.attempts import CallEnd
from campaigns.casepop import must_say
from campaigns.desk import AgentDesk
from campaigns.events import EventBus
from campaigns.scripts import ScriptError, load_scripts, parse_scripts
from cases import Store
from cases.models import (
    Account,
    Address,
    Attempt,
    AttemptOutcome,
    AuditEntry,
    Debtor,
    Hold,
    HoldKind,
    Note,
    Phone,
    PhoneKind,
    Product,
    Promise,
    RepaymentPlan,
    Role,
    Source,
    User,
)
from compliance import place_hold
from console import build_app
from dialer.agents import AgentState
from dialer.simulate.agent_bot import AgentBot
from dialer.switchboard import Switchboard
from tests.conftest import REDIS_URL
from tests.console.conftest import T0, StepClock, bearer, mint_token

TODAY = T0.date()  # 2026-12-02; T0 is 17:00 in Shanghai
BALANCE = Decimal("3000.00")


@dataclass
class Floor:
    client: TestClient
    desk: AgentDesk
    store: Store
    tokens: dict[str, str]
    attempt_id: int
    account_id: int

    def headers(self, name: str) -> dict[str, str]:
        return bearer(self.tokens[name])

    def bridge(self, agent: str, attempt_id: int) -> None:
        """The agent's phone takes the call, as the runner does: reserved for the attempt, then connected."""
        pool = self.desk.pool
        pool.add(agent, {"collectors"})
        pool.login(agent, 0.0)
        pool.ready(agent, 0.0)
        assert pool.reserve_longest_idle("collectors", 1.0, str(attempt_id)) is not None
        pool.connect(agent, 1.0)

    def close(self, agent: str) -> None:
        """The call ends and its wrap-up runs out: the pool forgets the call; the closed row names the agent."""
        self.desk.pool.hang_up(agent, 2.0)
        self.desk.pool.tick(1e9)
        with self.store.session() as session:
            attempts.close(session, self.attempt_id, CallEnd(AttemptOutcome.ANSWERED, T0, agent=agent))

    async def post(self, name: str, what: str, body: dict[str, Any], attempt_id: int | None = None) -> Any:
        return await self.client.post(f"/api/desk/attempts/{attempt_id or self.attempt_id}/{what}", json=body,
                                      headers=self.headers(name))


def seed(store: Store, *, days_past_due: int = 40, jurisdiction: str = "CN") -> tuple[int, int]:
    """A debtor in Shanghai with two accounts, a broken promise, a note, a cease hold on another number, and
    an answered, recorded call in flight about the first account. Returns (attempt id, account id)."""
    with store.session() as session:
        debtor = Debtor(external_ref="d1", full_name="张三丰", national_id="110101199003071234",
                        birth_date=TODAY.replace(year=1990))
        debtor.addresses.append(Address(region="上海", city="上海", country="CN", timezone="Asia/Shanghai"))
        debtor.phones.append(Phone(e164="+8613800000001", kind=PhoneKind.MOBILE))
        debtor.phones.append(Phone(e164="+8613800000002", kind=PhoneKind.HOME))
        session.add(debtor)
        session.flush()
        accounts = [Account(debtor_id=debtor.id, creditor="Acme Bank", account_ref=ref, product=Product.CREDIT_CARD,
                            currency="CNY", principal=BALANCE, balance=BALANCE, overdue_amount=Decimal("1200.00"),
                            due_date=TODAY - timedelta(days=days_past_due), jurisdiction=jurisdiction)
                    for ref in ("A-1", "A-2")]
        session.add_all(accounts)
        session.flush()
        session.add(Promise(account_id=accounts[0].id, amount=Decimal("500"), promised_for=TODAY - timedelta(days=5),
                            source=Source.IVR, status="broken", created_at=T0 - timedelta(days=12)))
        session.add(Note(account_id=accounts[1].id, body="asked for a statement"))
        place_hold(session, kind=HoldKind.CEASE, actor="t", source="ivr", e164="+8613800000002",
                   starts_at=T0 - timedelta(days=1))
        attempt = Attempt(account_id=accounts[0].id, phone_id=debtor.phones[0].id, number_e164="+8613800000001",
                          campaign_id=7, started_at=T0 - timedelta(minutes=1), answered_at=T0,
                          recording_path="/recordings/x.wav")
        session.add(attempt)
        session.flush()
        return attempt.id, accounts[0].id


@pytest.fixture
async def floor(store: Store, clock: StepClock) -> AsyncIterator[Floor]:
    attempt_id, account_id = seed(store)
    tokens = {name: mint_token(store, role, username=name)
              for name, role in (("li", Role.AGENT), ("wang", Role.AGENT), ("zhou", Role.SUPERVISOR),
                                 ("mei", Role.CAMPAIGN_MANAGER))}
    bus = EventBus()
    desk = AgentDesk(Switchboard(), bus=bus)  # the pool is what is read: no phone, no trunk
    redis_client = aioredis.from_url(REDIS_URL)
    app = build_app(store=store, redis_client=redis_client, clock=clock, desk=desk, bus=bus)
    async with TestClient(TestServer(app)) as client:
        yield Floor(client, desk, store, tokens, attempt_id, account_id)
    await redis_client.aclose()


def audit_rows(store: Store, action: str) -> list[AuditEntry]:
    with store.reading() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def user_id(store: Store, name: str) -> int:
    with store.reading() as session:
        found = session.scalar(select(User.id).where(User.username == name))
    assert found is not None
    return found


async def test_the_case_pops_for_the_agent_on_the_call_with_what_must_be_said(floor: Floor) -> None:
    floor.bridge("li", floor.attempt_id)
    response = await floor.client.get(f"/api/desk/case/{floor.attempt_id}", headers=floor.headers("li"))
    assert response.status == 200, await response.text()
    pop = await response.json()
    assert pop["debtor"]["full_name"] == "张三丰" and pop["debtor"]["birth_date"] == "1990-12-02"
    assert pop["debtor"]["national_id"] == "11************1234"  # not needed on the call: masked
    assert [p["number"] for p in pop["debtor"]["phones"]] == ["+86138****0001", "+86138****0002"]
    called, other = pop["accounts"]
    assert called["id"] == floor.account_id and called["called"] and not other["called"]
    assert (called["balance"], called["overdue_amount"], called["days_past_due"]) == ("3000.00", "1200.00", 40)
    assert [(p["amount"], p["status"]) for p in pop["promises"]] == [("500.00", "broken")]
    assert [n["body"] for n in pop["notes"]] == ["asked for a statement"]
    assert [(h["kind"], h["number"]) for h in pop["holds"]] == [("cease", "+86138****0002")]
    assert [a["id"] for a in pop["attempts"]] == [floor.attempt_id] and pop["attempt"]["recorded"]
    # CN: the caller's identity and the recording notice, worded in both languages with the agent's name.
    said = {item["element"]: item["text"] for item in pop["must_say"]}
    assert set(said) == {"caller_identification", "recording_notice"}
    assert "li" in said["caller_identification"]["en"] and "Acme Bank" in said["caller_identification"]["zh"]
    assert "录音" in said["recording_notice"]["zh"]
    assert pop["script"]["stage"] == "early" and pop["script"]["title"] == {"zh": "早期逾期", "en": "Early delinquency"}
    [viewed] = audit_rows(floor.store, "case.viewed")
    assert (viewed.actor, viewed.entity_id) == ("li", str(floor.account_id))
    assert viewed.details["attempt_id"] == floor.attempt_id and "full_name" in viewed.details["unmasked"]


def test_a_us_call_must_carry_the_mini_miranda_and_stages_follow_days_past_due() -> None:
    scripts = load_scripts()
    elements = [item["element"] for item in must_say("US-FL", False, scripts, {"agent": "li", "creditor": "Acme"})]
    assert elements == ["caller_identification", "mini_miranda"]
    assert [scripts.stage(days).name for days in (0, 30, 31, 90, 91, 180, 181, 4000)] == \
        ["reminder", "reminder", "early", "early", "late", "late", "recovery", "recovery"]
    with pytest.raises(ScriptError, match="start at 0"):
        parse_scripts({"version": "1", "read_back": {"zh": "x", "en": "x"},
                       "stages": [{"name": "a", "from_days": 5, "title": {"zh": "a", "en": "a"},
                                   "lines": {"zh": ["a"], "en": ["a"]}}]})


async def test_another_agent_is_refused_and_supervisors_may_look(floor: Floor) -> None:
    floor.bridge("li", floor.attempt_id)
    path = f"/api/desk/case/{floor.attempt_id}"
    refused = await floor.client.get(path, headers=floor.headers("wang"))
    assert refused.status == 403 and (await refused.json())["error_id"] == "forbidden"
    assert (await floor.post("wang", "note", {"text": "not mine"})).status == 403
    assert (await floor.client.get(path, headers=floor.headers("mei"))).status == 403  # a manager: not a desk role
    assert (await floor.client.get(path, headers=floor.headers("zhou"))).status == 200
    assert [row.actor for row in audit_rows(floor.store, "case.viewed")] == ["zhou"]
    floor.close("li")  # wrap-up over: the closed attempt names li as its agent
    assert (await floor.client.get(path, headers=floor.headers("li"))).status == 200
    assert (await floor.client.get(path, headers=floor.headers("wang"))).status == 403
    missing = await floor.client.get("/api/desk/case/999999", headers=floor.headers("zhou"))
    assert missing.status == 404 and (await missing.json())["error_id"] == "no_attempt"
    with floor.store.reading() as session:
        assert session.scalars(select(Note).where(Note.body == "not mine")).first() is None


async def test_a_promise_is_checked_against_the_terms_naming_the_field_then_read_back(floor: Floor) -> None:
    floor.bridge("li", floor.attempt_id)
    for body, status, error, field in (
            ({"amount": "3000.01", "promised_for": "2026-12-09"}, 422, "outside_terms", "amount"),
            ({"amount": "0.5", "promised_for": "2026-12-09"}, 422, "outside_terms", "amount"),
            ({"amount": "500", "promised_for": "2026-12-01"}, 422, "outside_terms", "promised_for"),
            ({"amount": "500", "promised_for": "2027-01-02"}, 422, "outside_terms", "promised_for"),
            ({"amount": "500", "promised_for": "2026-13-01"}, 400, "bad_parameter", "promised_for"),
            ({"amount": "500.001", "promised_for": "2026-12-09"}, 400, "bad_parameter", "amount"),
            ({"promised_for": "2026-12-09"}, 400, "bad_parameter", "amount")):
        response = await floor.post("li", "promise", body)
        answer = await response.json()
        assert (response.status, answer["error_id"]) == (status, error), (body, answer)
        assert field in (answer["details"].get("field"), answer["details"].get("parameter")), (body, answer)
    response = await floor.post("li", "promise", {"amount": "1200", "promised_for": "2026-12-09"})
    assert response.status == 201, await response.text()
    made = await response.json()
    assert made["promise"]["amount"] == "1200.00" and made["promise"]["promised_for"] == "2026-12-09"
    assert made["read_back"] == {"zh": "跟您确认一下：您承诺在2026年12月9日之前还款1200.00CNY，对吗？",
                                 "en": "Let me read that back: you will pay CNY 1200.00 by 9 December 2026. Is that right?"}
    with floor.store.reading() as session:
        promise = session.scalars(select(Promise).where(Promise.source == Source.AGENT)).one()
    assert (promise.amount, promise.attempt_id, promise.created_by) == (Decimal("1200.00"), floor.attempt_id,
                                                                      user_id(floor.store, "li"))
    assert promise.created_at == T0  # the API's clock, not the wall clock: "promises today" counts by it
    [audit] = audit_rows(floor.store, "promise.created")
    assert audit.actor == "li" and audit.details["amount"] == "1200" and audit.details["source"] == "agent"
    pop = await (await floor.client.get(f"/api/desk/case/{floor.attempt_id}", headers=floor.headers("li"))).json()
    assert [(p["amount"], p["source"], p["created_by"]) for p in pop["promises"]] == \
        [("1200.00", "agent", "li"), ("500.00", "ivr", None)]


async def test_a_callback_outside_the_debtors_calling_window_is_refused_with_the_window(floor: Floor) -> None:
    floor.bridge("li", floor.attempt_id)
    late = await floor.post("li", "callback", {"at": "2026-12-02T22:30:00+08:00"})
    answer = await late.json()
    assert (late.status, answer["error_id"]) == (422, "outside_calling_window"), answer
    assert answer["details"]["window"] == "08:00-22:00" and answer["details"]["field"] == "at"
    assert answer["details"]["next_open"] == "2026-12-03T00:00:00+00:00"  # 08:00 in Shanghai
    assert answer["details"]["local"]["Asia/Shanghai"]["local_time"].startswith("2026-12-02 22:30")
    past = await floor.post("li", "callback", {"at": "2026-12-02T16:00:00+08:00"})
    assert (past.status, (await past.json())["details"]["field"]) == (422, "at")
    naive = await floor.post("li", "callback", {"at": "2026-12-03T10:00:00"})
    assert (naive.status, (await naive.json())["details"]["parameter"]) == (400, "at")
    with floor.store.session() as session:  # the debtor's own "not at work hours", weekdays 09:00-12:00
        attempt = session.get(Attempt, floor.attempt_id)
        assert attempt is not None
        place_hold(session, kind=HoldKind.NO_CALL_TIMES, actor="li", source="agent", phone_id=attempt.phone_id,
                   starts_at=T0, schedule={"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "12:00"})
    at_work = await floor.post("li", "callback", {"at": "2026-12-03T10:00:00+08:00"})
    answer = await at_work.json()
    assert (at_work.status, answer["error_id"]) == (422, "outside_calling_window"), answer
    assert "no-call times" in answer["message"]
    agreed = await floor.post("li", "callback", {"at": "2026-12-03T14:00:00+08:00"})
    assert agreed.status == 201, await agreed.text()
    with floor.store.reading() as session:
        note = session.get(Note, (await agreed.json())["callback"]["note_id"])
        assert note is not None and note.author_id == user_id(floor.store, "li") and note.attempt_id == floor.attempt_id
    [audit] = audit_rows(floor.store, "callback.requested")
    assert audit.actor == "li" and audit.details["at"] == "2026-12-03T14:00:00+08:00"


async def test_the_disposition_waits_for_the_close_then_lands_and_a_dispute_holds_the_account(floor: Floor) -> None:
    floor.bridge("li", floor.attempt_id)
    early = await floor.post("li", "disposition", {"code": "dispute"})
    assert (early.status, (await early.json())["error_id"]) == (409, "call_in_progress")
    unknown = await floor.post("li", "disposition", {"code": "maybe"})
    assert (unknown.status, (await unknown.json())["details"]["parameter"]) == (400, "code")
    floor.close("li")
    done = await floor.post("li", "disposition", {"code": "dispute"})
    assert done.status == 201, await done.text()
    with floor.store.reading() as session:
        attempt = session.get(Attempt, floor.attempt_id)
        assert attempt is not None and attempt.disposition == "dispute"
        hold = session.scalars(select(Hold).where(Hold.kind == HoldKind.DISPUTE)).one()
        assert (hold.account_id, hold.created_by) == (floor.account_id, "li")
    [audit] = audit_rows(floor.store, "attempt.disposition")
    assert audit.actor == "li" and audit.details == {"disposition": "dispute", "before": None}


async def test_a_plan_and_a_note_land_with_the_agent_as_author(floor: Floor) -> None:
    floor.bridge("li", floor.attempt_id)
    refused = await floor.post("li", "plan", {"installments": 5})
    assert (refused.status, (await refused.json())["details"]["field"]) == (422, "installments")
    response = await floor.post("li", "plan", {"installments": 12})
    assert response.status == 201, await response.text()
    made = (await response.json())["plan"]
    assert len(made["installments"]) == 12 and made["installments"][0]["due_date"] == "2027-01-02"
    assert sum(Decimal(i["amount"]) for i in made["installments"]) == BALANCE
    noted = await floor.post("li", "note", {"text": "works nights; call after 10"})
    assert noted.status == 201
    too_long = await floor.post("li", "note", {"text": "x" * 2001})
    assert (too_long.status, (await too_long.json())["details"]["parameter"]) == (400, "text")
    with floor.store.reading() as session:
        plan = session.scalars(select(RepaymentPlan)).one()
        note = session.scalars(select(Note).where(Note.attempt_id == floor.attempt_id)).one()
    assert (plan.source, plan.total_amount) == (Source.AGENT, BALANCE)
    assert (note.body, note.author_id) == ("works nights; call after 10", user_id(floor.store, "li"))
    assert [(row.action, row.actor) for row in audit_rows(floor.store, "plan.proposed")
            + audit_rows(floor.store, "note.added")] == [("plan.proposed", "li"), ("note.added", "li")]


async def test_the_desk_page_and_the_agents_own_phone_state(floor: Floor) -> None:
    page = await floor.client.get("/desk?lang=en", headers=floor.headers("li"))
    assert page.status == 200, await page.text()
    html = await page.text()
    assert 'data-agent="li"' in html and 'data-code="promise_to_pay"' in html and "/static/desk.js" in html
    assert "<script>" not in html  # the CSP allows no inline script
    assert (await floor.client.get("/desk", headers=floor.headers("mei"))).status == 403
    me = await floor.client.get("/api/desk/me", headers=floor.headers("li"))
    assert await me.json() == {"agent": "li", "state": "logged_out", "reason": None, "phone_up": False,
                               "leg": "down", "registered": False, "wrap_s": floor.desk.wrap_s}
    floor.bridge("li", floor.attempt_id)
    assert (await (await floor.client.get("/api/desk/me", headers=floor.headers("li"))).json())["state"] == "on_call"


async def test_an_agent_who_says_ready_with_no_campaign_running_becomes_ready_on_the_desks_own_tick(
        store: Store, clock: StepClock) -> None:
    """Nothing but the desk's own tick (`AgentDesk.run`, which `dunline serve` runs) notices the phone's leg
    come up: no campaign runs and no request follows the "ready"."""
    board = Switchboard(password_of={"li": "li-sip-password"}.get)
    await board.start()
    desk, bot, stop = AgentDesk(board), AgentBot("li", "li-sip-password", board.address), asyncio.Event()
    redis_client = aioredis.from_url(REDIS_URL)
    token = mint_token(store, Role.AGENT, username="li")
    ticking = asyncio.ensure_future(desk.run(stop))
    try:
        assert await bot.start()
        async with TestClient(TestServer(build_app(store=store, redis_client=redis_client, clock=clock,
                                                   desk=desk, bus=desk.bus))) as client:
            said = await client.post("/api/agents/li/state", json={"state": "ready"}, headers=bearer(token))
            assert said.status == 200, await said.text()
            assert (await said.json())["state"] != "ready"  # the phone's leg is only being called
            deadline = time.monotonic() + 10
            while desk.state("li").state is not AgentState.READY:
                assert time.monotonic() < deadline, desk.state("li")
                await asyncio.sleep(0.05)
            me = await (await client.get("/api/desk/me", headers=bearer(token))).json()
            assert (me["state"], me["phone_up"], me["leg"]) == ("ready", True, "idle")
    finally:
        stop.set()
        await ticking
        await bot.close()
        await board.close()
        await redis_client.aclose()
