"""Work queues: the progress state table is total and its paths are right; against the real case store (SQLite
and PostgreSQL) an agent's queue is ordered by the hopper's priority function and each case's progress is
derived from its attempts, promises, payments, holds and status; preview offers the agent's own cases first."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from campaigns import assignment, queues
from campaigns.assignment_rules import parse_rules
from campaigns.hopper import Hopper
from campaigns.priority import priority
from campaigns.progress import TRANSITIONS, Event, Happened, IllegalTransition, Progress, replay, step
from cases import Store
from cases.models import (
    Account,
    AccountStatus,
    Attempt,
    AttemptOutcome,
    CaseAssignment,
    HoldKind,
    Payment,
    PaymentChannel,
    Promise,
    PromiseStatus,
    Source,
    User,
)
from cases.segments import Segment
from compliance import CampaignFacts, ComplianceGate, place_hold
from tests.campaigns.assignment_seed import NOW, TODAY, add_case, add_user, due


def test_every_state_and_event_pair_is_in_the_table() -> None:
    assert set(TRANSITIONS) == {(state, event) for state in Progress for event in Event}
    assert all(step(state, event) is TRANSITIONS[(state, event)] for state, event in TRANSITIONS)


def test_a_pair_missing_from_the_table_is_an_illegal_transition(monkeypatch: pytest.MonkeyPatch) -> None:
    table = dict(TRANSITIONS)
    del table[(Progress.PAID, Event.CONTACTED)]
    monkeypatch.setattr("campaigns.progress.TRANSITIONS", table)
    with pytest.raises(IllegalTransition, match="from paid on contacted"):
        step(Progress.PAID, Event.CONTACTED)


def at(hours: float, event: Event) -> Happened:
    return Happened(NOW + timedelta(hours=hours), event)


@pytest.mark.parametrize(("events", "state"), [
    ([], Progress.NOT_CONTACTED),
    ([Event.CONTACTED], Progress.CONTACTED),
    ([Event.CONTACTED, Event.PROMISED], Progress.PROMISED),
    ([Event.CONTACTED, Event.PROMISED, Event.CONTACTED], Progress.PROMISED),
    ([Event.CONTACTED, Event.PROMISED, Event.PROMISE_BROKEN], Progress.CONTACTED),
    ([Event.PROMISED, Event.PAID_PART], Progress.PAYING),
    ([Event.PROMISED, Event.PAID_PART, Event.PROMISED], Progress.PAYING),
    ([Event.PAID_PART, Event.PAID_OFF], Progress.PAID),
    ([Event.PAID_OFF, Event.ESCALATED, Event.PROMISE_BROKEN], Progress.PAID),  # paid is final
    ([Event.CONTACTED, Event.ESCALATED, Event.CONTACTED, Event.PROMISED], Progress.ESCALATED),
    ([Event.ESCALATED, Event.PAID_PART], Progress.PAYING),
])
def test_progress_follows_the_history(events: list[Event], state: Progress) -> None:
    assert replay([at(n, event) for n, event in enumerate(events)]) is state


def test_history_is_taken_in_time_order_whatever_order_it_is_given() -> None:
    assert replay([at(2, Event.PROMISE_BROKEN), at(1, Event.PROMISED), at(0, Event.CONTACTED)]) is Progress.CONTACTED


RULES = parse_rules({"version": "t", "unassigned_pool": "pool", "inactive_days": 30,
                     "rules": [{"name": "all", "team": "floor"}]})


def assigned(store: Store, cases: dict[str, dict]) -> dict[str, int]:  # type: ignore[type-arg]
    add_user(store, "amy")
    assignment.set_agent(store, "amy", actor="t", now=NOW, team="floor", languages=["zh"])
    ids = {ref: add_case(store, ref, **kw) for ref, kw in cases.items()}
    assignment.run(store, actor="t", now=NOW, rules=RULES)
    return ids


def test_the_queue_is_ordered_by_the_shared_priority(store: Store) -> None:
    ids = assigned(store, {"LOW": {"dpd": 10, "balance": "100"}, "HIGH": {"dpd": 90, "balance": "5000"},
                           "MID": {"dpd": 40, "balance": "3000"}, "BROKE": {"dpd": 40, "balance": "3000"},
                           "TALKED": {"dpd": 90, "balance": "5000"}})
    with store.session() as session:
        session.add(Promise(account_id=ids["BROKE"], amount=Decimal(100), promised_for=due(5), source=Source.AGENT,
                            status=PromiseStatus.BROKEN, created_at=NOW - timedelta(days=10)))
        session.add(Attempt(account_id=ids["TALKED"], number_e164="+8613800000001", started_at=NOW - timedelta(days=1),
                            outcome=AttemptOutcome.ANSWERED, conversation=True))
    items = queues.queue(store, "amy", NOW)
    assert [i.account_ref for i in items] == ["HIGH", "BROKE", "MID", "TALKED", "LOW"]
    expected = {i.account_ref: priority(i.days_past_due, i.balance, i.broken_promises, i.contacted_recently)
                for i in items}
    assert [round(i.score, 6) for i in items] == [round(expected[i.account_ref], 6) for i in items]
    assert expected["BROKE"] == 1.5 * expected["MID"] and expected["TALKED"] == expected["HIGH"] / 4
    assert items[0].debtor == "王**"  # a queue shows the name masked
    assert queues.queue(store, "nobody", NOW) == []


def test_progress_in_the_queue_comes_from_attempts_promises_payments_holds_and_status(store: Store) -> None:
    ids = assigned(store, {ref: {"dpd": 30} for ref in ("NEW", "TALK", "PROM", "PAYS", "PAID", "ESC", "BROKEN")})
    with store.session() as session:
        def talk(ref: str, hours: float) -> None:
            session.add(Attempt(account_id=ids[ref], number_e164="+8613800000001",
                                started_at=NOW - timedelta(hours=hours), outcome=AttemptOutcome.ANSWERED,
                                conversation=True))
        session.add(Attempt(account_id=ids["NEW"], number_e164="+8613800000001", started_at=NOW - timedelta(hours=3),
                            outcome=AttemptOutcome.NO_ANSWER))  # an unanswered call is no contact
        for ref in ("TALK", "PROM", "PAYS", "ESC", "BROKEN"):
            talk(ref, 48)
        for ref, status in (("PROM", PromiseStatus.PENDING), ("PAYS", PromiseStatus.PENDING),
                            ("BROKEN", PromiseStatus.BROKEN)):
            session.add(Promise(account_id=ids[ref], amount=Decimal(100), promised_for=TODAY - timedelta(days=1)
                                if status is PromiseStatus.BROKEN else TODAY + timedelta(days=3),
                                source=Source.AGENT, status=status, created_at=NOW - timedelta(hours=47)))
        session.add(Payment(account_id=ids["PAYS"], amount=Decimal(50), paid_on=TODAY,
                            channel=PaymentChannel.ALIPAY, external_ref="p1"))
        session.add(Payment(account_id=ids["PAID"], amount=Decimal(1000), paid_on=TODAY,
                            channel=PaymentChannel.ALIPAY, external_ref="p2"))
        session.get(Account, ids["PAID"]).status = AccountStatus.PAID  # type: ignore[union-attr]
        place_hold(session, kind=HoldKind.DISPUTE, actor="t", source="test", account_id=ids["ESC"],
                   starts_at=NOW - timedelta(hours=1))
    progress = {i.account_ref: i.progress for i in queues.queue(store, "amy", NOW)}
    assert progress == {"NEW": Progress.NOT_CONTACTED, "TALK": Progress.CONTACTED, "PROM": Progress.PROMISED,
                        "PAYS": Progress.PAYING, "PAID": Progress.PAID, "ESC": Progress.ESCALATED,
                        "BROKEN": Progress.CONTACTED}


def test_preview_offers_the_agents_own_cases_first_and_never_anothers(store: Store) -> None:
    for name in ("amy", "bob"):
        add_user(store, name)
        assignment.set_agent(store, name, actor="t", now=NOW, team="floor", languages=["zh"])
    ids = {ref: add_case(store, ref, dpd=dpd, balance=bal) for ref, dpd, bal in
           (("A", 10, "100"), ("B", 60, "9000"), ("C", 30, "500"))}
    assignment.run(store, actor="t", now=NOW, rules=RULES)
    with store.reading() as session:
        owner = {account: who for account, who in session.execute(
            select(CaseAssignment.account_id, User.username).join(User, User.id == CaseAssignment.agent_id))}
    hopper = Hopper(store, ComplianceGate(store), Segment(jurisdictions=("CN",)), CampaignFacts(campaign_id=1))
    for agent in ("amy", "bob"):
        mine = [a for a, who in owner.items() if who == agent]
        best = max(mine, key=lambda a: [i.score for i in queues.queue(store, agent, NOW) if i.account_id == a][0])
        lead = queues.preview_lead(hopper, agent, NOW, exclude=frozenset())
        assert lead is not None and lead.account_id == best
        rest = queues.preview_lead(hopper, agent, NOW, exclude=frozenset(mine))
        assert rest is None  # the only other cases are held by the other agent
    assert ids
