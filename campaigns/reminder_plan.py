"""Reminder planning: a strategy (data, `campaigns/reminders.yaml`) and the facts of open accounts -> the
reminders due today.

Pure: a rule sends, on each of its channels (SMS, e-mail), on its anchor date (a pending promise's date, an unpaid instalment's due date, the account's
oldest unpaid due date) plus `offset_days`, and stays due for `grace_days` after (a missed run, or a refusal for
a window or a cap, is caught up). Each reminder has a stable key `(account_id, rule, anchor date, channel)`: the
sender records it, so a reminder goes out once however often the planner runs. `merge` makes the reminders due
together for one account on one channel a single message (two instalments due the same week: one SMS, not two).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from campaigns.scripts import load_scripts

STRATEGY = Path(__file__).parent / "reminders.yaml"
ANCHORS = ("promise", "instalment", "due_date")
CHANNELS = ("sms", "email", "task")  # task: an escalation task for the case's agent (campaigns.tasks)

Key = tuple[int, str, date, str]  # (account_id, rule, anchor date, channel)


class StrategyError(ValueError):
    """A strategy file refused; the message names the entry and field."""


@dataclass(frozen=True)
class Rule:
    rule: str
    anchor: str
    offset_days: int
    stage: str
    channels: tuple[str, ...] = ("sms",)


@dataclass(frozen=True)
class Strategy:
    creditor: str | None
    product: str | None
    rules: tuple[Rule, ...]

    def matches(self, creditor: str, product: str) -> bool:
        return self.creditor in (None, creditor) and self.product in (None, product)


@dataclass(frozen=True)
class Strategies:
    version: str
    timezone: str
    grace_days: int
    default: Strategy
    specific: tuple[Strategy, ...]
    stages: tuple[str, ...] = ()  # the collection stages, mildest first (campaigns/scripts.yaml)

    def for_account(self, creditor: str, product: str) -> Strategy:
        return next((s for s in self.specific if s.matches(creditor, product)), self.default)


@dataclass(frozen=True)
class AccountFacts:
    """What the planner needs of one open account: `due_date` only while something is overdue, the dates of
    its pending promises and of its active plans' unpaid instalments."""

    account_id: int
    creditor: str
    product: str
    due_date: date | None
    promises: tuple[date, ...] = ()
    instalments: tuple[date, ...] = ()


@dataclass(frozen=True)
class Reminder:
    account_id: int
    rule: str
    due_date: date  # the anchor date: part of the key
    send_on: date
    stage: str
    strategy_version: str
    channel: str = "sms"

    @property
    def key(self) -> Key:
        return (self.account_id, self.rule, self.due_date, self.channel)


@dataclass(frozen=True)
class Message:
    """The reminders due together for one account on one channel, sent as one message: the text of `lead`
    (the most advanced stage, then the earliest anchor), each of `reminders` recorded with its outcome."""

    lead: Reminder
    reminders: tuple[Reminder, ...]


def plan(accounts: Iterable[AccountFacts], strategies: Strategies, today: date) -> list[Reminder]:
    """The reminders due on `today` (sent on their day or up to `grace_days` after), in account order."""
    due = []
    for facts in accounts:
        anchors = {"promise": facts.promises, "instalment": facts.instalments,
                   "due_date": (facts.due_date,) if facts.due_date else ()}
        for rule in strategies.for_account(facts.creditor, facts.product).rules:
            for anchor in sorted(set(anchors[rule.anchor])):
                send_on = anchor + timedelta(days=rule.offset_days)
                if send_on <= today <= send_on + timedelta(days=strategies.grace_days):
                    due += [Reminder(facts.account_id, rule.rule, anchor, send_on, rule.stage, strategies.version,
                                     channel) for channel in rule.channels]
    return due


def merge(reminders: Iterable[Reminder], stages: tuple[str, ...]) -> list[Message]:
    """One message per (account, channel), in first-seen order; its lead is the reminder of the most advanced
    stage in `stages`, then the earliest anchor date."""
    groups: dict[tuple[int, str], list[Reminder]] = {}
    for reminder in reminders:
        groups.setdefault((reminder.account_id, reminder.channel), []).append(reminder)
    rank = {stage: n for n, stage in enumerate(stages)}
    return [Message(min(group, key=lambda r: (-rank.get(r.stage, -1), r.due_date)), tuple(group))
            for group in groups.values()]


def _rule(where: str, raw: Any, stages: tuple[str, ...]) -> Rule:
    if not isinstance(raw, dict) or not {"rule", "anchor", "offset_days", "stage"} <= set(raw) <= \
            {"rule", "anchor", "offset_days", "stage", "channels"}:
        raise StrategyError(f"{where}: expected rule, anchor, offset_days, stage and optionally channels")
    if not isinstance(raw["rule"], str) or not raw["rule"] or len(raw["rule"]) > 64:
        raise StrategyError(f"{where}: rule: a name of 1 to 64 characters")
    if raw["anchor"] not in ANCHORS:
        raise StrategyError(f"{where}: anchor: {raw['anchor']!r}; anchors: {', '.join(ANCHORS)}")
    if not isinstance(raw["offset_days"], int) or isinstance(raw["offset_days"], bool):
        raise StrategyError(f"{where}: offset_days: a whole number of days")
    if raw["stage"] not in stages:
        raise StrategyError(f"{where}: stage: {raw['stage']!r}; stages: {', '.join(stages)}")
    channels = raw.get("channels", ["sms"])
    if not isinstance(channels, list) or not channels or len(set(channels)) != len(channels) \
            or not set(channels) <= set(CHANNELS):
        raise StrategyError(f"{where}: channels: {channels!r}; a list of {', '.join(CHANNELS)}, each once")
    return Rule(raw["rule"], raw["anchor"], raw["offset_days"], raw["stage"], tuple(channels))


def _strategy(where: str, raw: Any, stages: tuple[str, ...], creditor: Any = None, product: Any = None) -> Strategy:
    if not isinstance(raw, list) or not raw:
        raise StrategyError(f"{where}: a list of rules")
    rules = tuple(_rule(f"{where}[{n}]", item, stages) for n, item in enumerate(raw))
    names = [r.rule for r in rules]
    if len(set(names)) != len(names):
        raise StrategyError(f"{where}: a rule name given twice")
    return Strategy(creditor, product, rules)


def parse(data: Any, where: str = STRATEGY.name) -> Strategies:
    if not isinstance(data, dict) or set(data) - {"version", "timezone", "grace_days", "default", "strategies"}:
        raise StrategyError(f"{where}: a mapping of version, timezone, grace_days, default and strategies")
    for field in ("version", "timezone"):
        if not isinstance(data.get(field), str) or not data[field]:
            raise StrategyError(f"{where}: {field}: required")
    grace = data.get("grace_days", 0)
    if not isinstance(grace, int) or isinstance(grace, bool) or grace < 0:
        raise StrategyError(f"{where}: grace_days: a whole number of days, 0 or more")
    stages = tuple(stage.name for stage in load_scripts().stages)
    specific = []
    for n, raw in enumerate(data.get("strategies") or []):
        if not isinstance(raw, dict) or "rules" not in raw or set(raw) - {"creditor", "product", "rules"}:
            raise StrategyError(f"{where}: strategies[{n}]: expected creditor and/or product, and rules")
        specific.append(_strategy(f"{where}: strategies[{n}].rules", raw["rules"], stages,
                                  raw.get("creditor"), raw.get("product")))
    return Strategies(data["version"], data["timezone"], grace,
                      _strategy(f"{where}: default", data.get("default"), stages), tuple(specific), stages)


@cache
def load(path: Path = STRATEGY) -> Strategies:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise StrategyError(f"{path.name}: {error}") from None
    return parse(data, path.name)
