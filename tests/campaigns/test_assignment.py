"""Assignment against the real case store (SQLite and PostgreSQL): the shipped rules assign by team, skill and
language, unmatched cases wait in the named pool, a second run writes nothing, a dry run writes nothing, an
absent (marked or idle) agent's cases go to the team's others, every change audited with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns import assignment
from campaigns.assignment import AssignmentError
from campaigns.assignment_rules import parse_rules
from cases import Store
from cases.audit import verify_chain
from cases.models import Attempt, AttemptOutcome, AuditEntry, CaseAssignment, Language, Role
from tests.campaigns.assignment_seed import NOW, add_case, add_user

RULES = parse_rules({
    "version": "t1", "unassigned_pool": "unassigned", "inactive_days": 7,
    "rules": [
        {"name": "pre-legal", "team": "recovery", "skill": "pre_legal",
         "when": {"days_past_due": {"min": 91}, "balance": {"min": 5000}}},
        {"name": "early-cn", "team": "early", "when": {"days_past_due": {"max": 30}, "jurisdictions": ["CN"]}},
    ]})


def setup(store: Store) -> dict[str, int]:
    for name in ("amy", "bob", "rex", "sue"):
        add_user(store, name)
    add_user(store, "boss", Role.SUPERVISOR)
    assignment.set_agent(store, "amy", actor="boss", now=NOW - timedelta(days=1), team="early", languages=["zh"])
    assignment.set_agent(store, "bob", actor="boss", now=NOW - timedelta(days=1), team="early",
                         languages=["zh", "en"])
    assignment.set_agent(store, "rex", actor="boss", now=NOW - timedelta(days=1), team="recovery",
                         skills=["pre_legal"], languages=["zh"])
    assignment.set_agent(store, "sue", actor="boss", now=NOW - timedelta(days=1), team="recovery", languages=["zh"])
    return {"e1": add_case(store, "E1", dpd=5), "e2": add_case(store, "E2", dpd=20),
            "e3": add_case(store, "E3", dpd=10, language=Language.EN),
            "big": add_case(store, "BIG", dpd=120, balance="9000"),
            "mid": add_case(store, "MID", dpd=60, balance="9000")}


def placed(store: Store) -> dict[int, tuple[str | None, str | None, str | None]]:
    return {row["account_id"]: (row["agent"], row["team"], row["pool"]) for row in assignment.assignments(store)}


def test_rules_assign_by_team_skill_and_language_and_unmatched_cases_wait_in_the_named_pool(store: Store) -> None:
    ids = setup(store)
    report = assignment.run(store, actor="boss", now=NOW, rules=RULES)
    assert report.cases == 5 and len(report.changes) == 5
    where = placed(store)
    assert where[ids["big"]] == ("rex", "recovery", None)  # the skill: sue lacks pre_legal
    assert where[ids["e3"]] == ("bob", "early", None)  # English: only bob speaks it
    assert (where[ids["e1"]][0], where[ids["e2"]][0]) == ("amy", "bob")  # the least loaded, then by name
    assert where[ids["mid"]] == (None, None, "unassigned")
    assert report.by_place["pool:unassigned"] == 1
    with store.reading() as session:
        row = session.scalar(select(CaseAssignment).where(CaseAssignment.account_id == ids["big"]))
        assert row is not None and row.rule == "pre-legal" and row.rules_version == "t1"
        assert row.receipt["rule"] == "pre-legal" and row.receipt["tried"][0]["matched"]
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "case.assigned")).all()
        assert len(audits) == 5 and all(a.actor == "boss" for a in audits)
        assert {a.details["after"] for a in audits} >= {"rex", "pool:unassigned"}


def test_running_again_changes_nothing_and_a_dry_run_writes_nothing(store: Store) -> None:
    ids = setup(store)
    dry = assignment.run(store, actor="boss", now=NOW, rules=RULES, dry_run=True)
    assert dry.dry_run and len(dry.changes) == 5 and placed(store) == {}
    assignment.run(store, actor="boss", now=NOW, rules=RULES)
    before = placed(store)
    again = assignment.run(store, actor="boss", now=NOW + timedelta(hours=1), rules=RULES)
    assert again.changes == [] and placed(store) == before
    with store.reading() as session:
        assert len(session.scalars(select(CaseAssignment)).all()) == 5  # no new rows
        assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "case.assigned")).all()) == 5
    assert ids


def test_an_absent_agents_cases_go_to_the_others_of_the_team_audited(store: Store) -> None:
    ids = setup(store)
    assignment.run(store, actor="boss", now=NOW, rules=RULES)
    amy_cases = [a for a, (agent, _, _) in placed(store).items() if agent == "amy"]
    assert amy_cases
    assignment.set_agent(store, "amy", actor="boss", now=NOW, absent=True)
    report = assignment.run(store, actor="boss", now=NOW, rules=RULES)
    assert {c.account_id for c in report.changes} == set(amy_cases)
    assert all(c.before == "amy" and c.after == "bob" and c.reason == "agent_absent" for c in report.changes)
    with store.reading() as session:
        history = session.scalars(select(CaseAssignment).where(CaseAssignment.account_id == amy_cases[0])
                                  .order_by(CaseAssignment.id)).all()
        assert [h.ended_at is None for h in history] == [False, True]  # the old row ended, kept as history
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "case.assigned",
                                                         AuditEntry.entity_id == str(amy_cases[0]))
                                .order_by(AuditEntry.seq)).all()[-1]
        assert {k: audit.details[k] for k in ("before", "after", "reason")} == {
            "before": "amy", "after": "bob", "reason": "agent_absent"}
        assert verify_chain(session).intact
    assert ids


def test_an_agent_idle_for_the_inactive_days_is_absent_and_a_call_brings_them_back(store: Store) -> None:
    setup(store)
    later = NOW + timedelta(days=8)  # nobody has called for 8 days: the whole early team is idle
    assignment.run(store, actor="boss", now=NOW, rules=RULES)
    bob = add_user_id(store, "bob")
    with store.session() as session:
        session.add(Attempt(account_id=1, number_e164="+8613800000000", agent_id=bob,
                            started_at=later - timedelta(days=1), outcome=AttemptOutcome.ANSWERED, conversation=True))
    report = assignment.run(store, actor="boss", now=later, rules=RULES)
    assert report.changes and all(c.after == "bob" for c in report.changes if c.before == "amy")
    assert "amy" not in {agent for agent, _, _ in placed(store).values()}


def add_user_id(store: Store, name: str) -> int:
    from cases.models import User

    with store.reading() as session:
        found = session.scalar(select(User.id).where(User.username == name))
        assert found is not None
        return found


def test_a_profile_is_only_for_an_agent(store: Store) -> None:
    add_user(store, "boss", Role.SUPERVISOR)
    with pytest.raises(AssignmentError, match="'boss' is not an agent"):
        assignment.set_agent(store, "boss", actor="admin", now=NOW, team="early")
    with pytest.raises(AssignmentError, match="'nobody' is not an agent"):
        assignment.set_agent(store, "nobody", actor="admin", now=NOW, team="early")


def test_a_deactivated_agents_cases_move_as_an_absent_agents_do(store: Store) -> None:
    from cases.models import User

    setup(store)
    assignment.run(store, actor="boss", now=NOW, rules=RULES)
    with store.session() as session:
        user = session.scalar(select(User).where(User.username == "rex"))
        assert user is not None
        user.active = False
    report = assignment.run(store, actor="boss", now=NOW, rules=RULES)
    assert [(c.before, c.after, c.reason) for c in report.changes] == [("rex", "pool:recovery", "agent_absent")]
