"""The assignment rules, pure: each dimension decides, the first matching rule wins and its receipt says so,
unmatched cases go to the named pool, agents are chosen by team, skill, language and load, and a holder keeps
a case while they may take it. The shipped rules file loads."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from campaigns.assignment_rules import AgentFacts, CaseFacts, RuleError, assign, load_rules, parse_rules

RULES = parse_rules({
    "version": "t1", "unassigned_pool": "待分配", "inactive_days": 5,
    "rules": [
        {"name": "big-late", "team": "legal", "skill": "pre_legal",
         "when": {"days_past_due": {"min": 91}, "balance": {"min": 5000}}},
        {"name": "english", "team": "intl", "when": {"languages": ["en"]}},
        {"name": "guangdong", "team": "south", "when": {"regions": ["广东"]}},
        {"name": "acme-cards", "team": "acme", "when": {"creditors": ["Acme"], "products": ["credit_card"]}},
        {"name": "us", "team": "us", "when": {"jurisdictions": ["US"], "days_past_due": {"max": 30}}},
    ]})


def case(account_id: int = 1, *, dpd: int = 10, balance: str = "100", language: str = "zh", region: str | None = "北京",
         creditor: str = "Other", product: str = "consumer_loan", jurisdiction: str = "CN") -> CaseFacts:
    return CaseFacts(account_id, dpd, Decimal(balance), language, region, creditor, product, jurisdiction)


def agent(name: str, team: str, *, skills: tuple[str, ...] = (), languages: tuple[str, ...] = ("zh", "en"),
          present: bool = True, load: int = 0) -> AgentFacts:
    return AgentFacts(name, team, frozenset(skills), frozenset(languages), present, load)


AGENTS = [agent("lena", "legal", skills=("pre_legal",)), agent("ian", "intl", languages=("en",)),
          agent("sam", "south"), agent("ada", "acme"), agent("ulf", "us", languages=("en",))]


@pytest.mark.parametrize(("facts", "rule", "agent_name"), [
    (case(dpd=120, balance="8000"), "big-late", "lena"),  # days past due and balance
    (case(dpd=120, balance="4999.99"), None, None),  # balance below the band: no rule
    (case(dpd=90, balance="8000"), None, None),  # one day short
    (case(language="en"), "english", "ian"),  # language
    (case(region="广东"), "guangdong", "sam"),  # region
    (case(creditor="Acme", product="credit_card"), "acme-cards", "ada"),  # creditor and product
    (case(creditor="Acme", product="auto_loan"), None, None),
    (case(jurisdiction="US", dpd=30, language="en"), "english", "ian"),  # an earlier rule wins
    (case(jurisdiction="US", dpd=30, language="zh"), "us", None),  # the US team speaks no Chinese: team pool
])
def test_each_dimension_decides(facts: CaseFacts, rule: str | None, agent_name: str | None) -> None:
    [decision] = assign(RULES, [facts], AGENTS)
    assert (decision.rule, decision.agent) == (rule, agent_name)
    assert decision.receipt["rule"] == rule and decision.receipt["rules_version"] == "t1"
    if rule is None:
        assert (decision.pool, decision.team) == ("待分配", None)
        assert decision.receipt["why"] == "no rule matched"
        assert [t["rule"] for t in decision.receipt["tried"]] == [r.name for r in RULES.rules]
    elif agent_name is None:
        assert decision.pool == decision.team == "us"
    else:
        assert decision.pool is None
        matched = decision.receipt["tried"][-1]
        assert matched["matched"] and matched["rule"] == rule and all(c["passed"] for c in matched["checks"])


def test_the_receipt_names_the_failing_condition_of_each_rule_tried() -> None:
    [decision] = assign(RULES, [case(region="广东", dpd=100, balance="10")], AGENTS)
    first = decision.receipt["tried"][0]
    assert first == {"rule": "big-late", "matched": False,
                     "failed": {"condition": "balance", "passed": False, "saw": "10",
                                "wanted": {"min": "5000", "max": None}}}
    assert decision.receipt["tried"][-1]["rule"] == "guangdong"


def test_the_least_loaded_eligible_agent_takes_new_cases_and_absent_or_unskilled_ones_none() -> None:
    team = [agent("a", "south", load=3), agent("b", "south", load=1), agent("c", "south", present=False),
            agent("d", "south", languages=("en",))]
    decisions = assign(RULES, [case(i, region="广东") for i in range(1, 5)], team)
    assert [d.agent for d in decisions] == ["b", "b", "a", "b"]  # b 1->2->3, then a (3) before b (3) by name


def test_a_holder_keeps_the_case_while_eligible_and_loses_it_when_absent() -> None:
    team = [agent("a", "south", load=5), agent("b", "south", load=0)]
    assert assign(RULES, [case(7, region="广东")], team, {7: "a"})[0].agent == "a"
    assert assign(RULES, [case(7, region="广东")], team, {7: "a"})[0].receipt["why"] == "kept by its agent"
    away = [agent("a", "south", load=5, present=False), agent("b", "south")]
    assert assign(RULES, [case(7, region="广东")], away, {7: "a"})[0].agent == "b"


@pytest.mark.parametrize(("data", "named"), [
    ({"version": "1", "unassigned_pool": "p", "inactive_days": 3, "rules": [{"name": "x", "team": "t",
                                                                            "when": {"colour": ["red"]}}]},
     "rules[0] (x).when: unknown condition(s) ['colour']"),
    ({"version": "1", "unassigned_pool": "p", "inactive_days": 3, "rules": [{"name": "x"}]},
     "rules[0]: a rule needs a name and a team"),
    ({"version": "1", "unassigned_pool": "p", "inactive_days": 3,
      "rules": [{"name": "x", "team": "t", "when": {"balance": {"min": 9, "max": 1}}}]},
     "rules[0] (x).when.balance: min 9 is above max 1"),
    ({"version": "1", "inactive_days": 3, "rules": []}, "unassigned_pool must name"),
    ({"version": "1", "unassigned_pool": "p", "inactive_days": 3,
      "rules": [{"name": "x", "team": "t"}, {"name": "x", "team": "u"}]}, "rule names must be unique (['x'])"),
])
def test_a_malformed_rules_file_is_refused_naming_the_place(data: dict, named: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(RuleError, match=re.escape(named)):
        parse_rules(data, "rules.yaml")


def test_the_shipped_rules_load() -> None:
    rules = load_rules()
    assert rules.unassigned_pool and rules.rules and rules.version
