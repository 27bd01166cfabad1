"""Assignment rules as data (`campaigns/assignment.yaml`): cases and agents in, decisions out.

Pure, like `compliance.decision`: `assign(rules, cases, agents, current)` reads nothing and writes nothing, and
each `Assignment` carries its receipt — the rules version, every rule tried with the condition that failed,
the matching rule with the values it saw, and why this agent (or this pool). `campaigns.assignment` loads the
facts from the case store and writes the decisions.

A rule's conditions are a closed vocabulary (`CONDITIONS`); an unknown key, a wrong type or a team-less rule
is a `RuleError` naming the file, the rule and the key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES = Path(__file__).parent / "assignment.yaml"
LIST_CONDITIONS = ("languages", "regions", "creditors", "products", "jurisdictions")
RANGE_CONDITIONS = ("days_past_due", "balance")
CONDITIONS = RANGE_CONDITIONS + LIST_CONDITIONS
RULE_KEYS = frozenset({"name", "team", "skill", "when"})


class RuleError(ValueError):
    """The rules file is malformed; the message names the place."""


@dataclass(frozen=True)
class CaseFacts:
    """What the rules read of one case."""

    account_id: int
    days_past_due: int
    balance: Decimal
    language: str
    region: str | None
    creditor: str
    product: str
    jurisdiction: str

    def value(self, condition: str) -> Any:
        return {"languages": self.language, "regions": self.region, "creditors": self.creditor,
                "products": self.product, "jurisdictions": self.jurisdiction,
                "days_past_due": self.days_past_due, "balance": self.balance}[condition]


@dataclass(frozen=True)
class AgentFacts:
    """What the rules read of one agent: `load` is the count of open cases they hold now."""

    name: str
    team: str | None
    skills: frozenset[str]
    languages: frozenset[str]
    present: bool
    load: int = 0


@dataclass(frozen=True)
class Range:
    low: Decimal | None
    high: Decimal | None

    def holds(self, value: Decimal | int) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def json(self) -> dict[str, str | None]:
        return {"min": None if self.low is None else str(self.low),
                "max": None if self.high is None else str(self.high)}


@dataclass(frozen=True)
class Rule:
    name: str
    team: str
    skill: str | None
    ranges: Mapping[str, Range] = field(default_factory=dict)
    lists: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def checks(self, case: CaseFacts) -> list[dict[str, Any]]:
        """Every condition with what it saw and whether it held, in the file's vocabulary."""
        found: list[dict[str, Any]] = []
        for name, limits in self.ranges.items():
            seen = case.value(name)
            found.append({"condition": name, "passed": limits.holds(seen), "saw": str(seen), "wanted": limits.json()})
        for name, allowed in self.lists.items():
            seen = case.value(name)
            found.append({"condition": name, "passed": seen in allowed, "saw": seen, "wanted": sorted(allowed)})
        return found


@dataclass(frozen=True)
class RuleSet:
    version: str
    unassigned_pool: str
    inactive_days: int
    rules: tuple[Rule, ...]

    @property
    def teams(self) -> frozenset[str]:
        return frozenset(rule.team for rule in self.rules)


@dataclass(frozen=True)
class Assignment:
    """One case's decision: an agent of `team`, or no agent and the `pool` it waits in."""

    account_id: int
    rule: str | None
    team: str | None
    agent: str | None
    pool: str | None
    receipt: dict[str, Any]


def _range(where: str, raw: Any) -> Range:
    if not isinstance(raw, dict) or not raw or set(raw) - {"min", "max"}:
        raise RuleError(f"{where}: expected {{min: N, max: N}} (either may be left out)")
    try:
        low, high = (None if raw.get(k) is None else Decimal(str(raw[k])) for k in ("min", "max"))
    except InvalidOperation:
        raise RuleError(f"{where}: min and max must be numbers") from None
    if low is not None and high is not None and low > high:
        raise RuleError(f"{where}: min {low} is above max {high}")
    return Range(low, high)


def _rule(where: str, raw: Any) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: expected a mapping with name, team, when")
    unknown = sorted(set(raw) - RULE_KEYS)
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {unknown}; a rule has {sorted(RULE_KEYS)}")
    name, team, skill = raw.get("name"), raw.get("team"), raw.get("skill")
    if not isinstance(name, str) or not name or not isinstance(team, str) or not team:
        raise RuleError(f"{where}: a rule needs a name and a team")
    if skill is not None and not isinstance(skill, str):
        raise RuleError(f"{where} ({name}).skill: expected text")
    when = raw.get("when") or {}
    if not isinstance(when, dict):
        raise RuleError(f"{where} ({name}).when: expected a mapping of conditions")
    unknown = sorted(set(when) - set(CONDITIONS))
    if unknown:
        raise RuleError(f"{where} ({name}).when: unknown condition(s) {unknown}; known: {list(CONDITIONS)}")
    lists: dict[str, frozenset[str]] = {}
    for key in LIST_CONDITIONS:
        if key in when:
            values = when[key]
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                raise RuleError(f"{where} ({name}).when.{key}: expected a list of text")
            lists[key] = frozenset(values)
    ranges = {key: _range(f"{where} ({name}).when.{key}", when[key]) for key in RANGE_CONDITIONS if key in when}
    return Rule(name, team, skill, ranges, lists)


def parse_rules(data: Any, where: str = RULES.name) -> RuleSet:
    if not isinstance(data, dict) or not data.get("version"):
        raise RuleError(f"{where}: a mapping with a version")
    pool, days = data.get("unassigned_pool"), data.get("inactive_days")
    if not isinstance(pool, str) or not pool:
        raise RuleError(f"{where}: unassigned_pool must name the pool unmatched cases wait in")
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise RuleError(f"{where}: inactive_days must be a whole number of days, at least 1")
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list):
        raise RuleError(f"{where}: rules must be a list")
    rules = tuple(_rule(f"{where}: rules[{n}]", raw) for n, raw in enumerate(raw_rules))
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise RuleError(f"{where}: rule names must be unique ({sorted({n for n in names if names.count(n) > 1})})")
    return RuleSet(str(data["version"]), pool, days, rules)


@cache
def load_rules(path: Path = RULES) -> RuleSet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RuleError(f"{path.name}: {error}") from None
    return parse_rules(data, path.name)


def _eligible(rule: Rule, case: CaseFacts) -> Callable[[AgentFacts], bool]:
    def can_take(agent: AgentFacts) -> bool:
        return (agent.present and agent.team == rule.team and (rule.skill is None or rule.skill in agent.skills)
                and case.language in agent.languages)
    return can_take


def assign(rules: RuleSet, cases: Iterable[CaseFacts], agents: Iterable[AgentFacts],
           current: Mapping[int, str] | None = None) -> list[Assignment]:
    """A decision for each case, in order. `current` maps an account to the agent holding it now: they keep it
    while they may take it, so a second run over the same facts decides the same. New cases go to the least
    loaded eligible agent (then by name), counting the cases given out in this run."""
    current = current or {}
    roster = {agent.name: agent for agent in agents}
    load = {name: agent.load for name, agent in roster.items()}
    decided: list[Assignment] = []
    for case in cases:
        tried: list[dict[str, Any]] = []
        matched: Rule | None = None
        for rule in rules.rules:
            checks = rule.checks(case)
            failed = next((c for c in checks if not c["passed"]), None)
            if failed is None:
                matched = rule
                tried.append({"rule": rule.name, "matched": True, "checks": checks})
                break
            tried.append({"rule": rule.name, "matched": False, "failed": failed})
        receipt: dict[str, Any] = {"rules_version": rules.version, "account_id": case.account_id, "tried": tried}
        if matched is None:
            decided.append(Assignment(case.account_id, None, None, None, rules.unassigned_pool,
                                      {**receipt, "rule": None, "why": "no rule matched"}))
            continue
        can_take = _eligible(matched, case)
        holder = roster.get(current.get(case.account_id, ""))
        if holder is not None and can_take(holder):
            agent, why = holder.name, "kept by its agent"
        else:
            candidates = sorted((a for a in roster.values() if can_take(a)), key=lambda a: (load[a.name], a.name))
            agent = candidates[0].name if candidates else None
            why = (f"least loaded of {len(candidates)} eligible" if agent else
                   "nobody of the team present with the skill and language")
            if agent is not None:
                load[agent] += 1
            if holder is not None:
                load[holder.name] -= 1
        receipt |= {"rule": matched.name, "team": matched.team, "skill": matched.skill, "language": case.language,
                    "why": why}
        decided.append(Assignment(case.account_id, matched.name, matched.team, agent,
                                  None if agent else matched.team, receipt))
    return decided
