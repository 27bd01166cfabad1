"""Rule packs: versioned YAML data, one per jurisdiction, typed here.

A pack's `rules` use only the vocabulary of `Rules` below; an unknown key or a wrong type is an error that
names the pack and the key. `extends` inherits another pack's rules. A campaign may tighten any figure
(narrower window, lower caps, longer lockouts) but never loosen one: `RulePack.tightened` refuses.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

PACK_DIR = Path(__file__).parent / "packs"


class RulePackError(ValueError):
    """A rule pack or override that is malformed or would loosen a rule."""


class ThirdPartyCalls(StrEnum):
    NEVER = "never"
    WHEN_DEBTOR_UNREACHABLE = "when_debtor_unreachable"


@dataclass(frozen=True)
class CallingWindow:
    start: time
    end: time

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end

    @cached_property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class AbandonRule:
    max: float
    window_hours: int


@dataclass(frozen=True)
class ChannelRules:
    """A message channel's rules (`sms`, `email`); a pack without the channel's key allows no such message.

    `window`: when a message may be sent, in the debtor's local time. `per_debtor_day`: messages of this channel
    to one debtor per local day; `per_debt_7d`: per debt within 7 consecutive days. `counts_as_contact`: each
    message counts toward the pack's cross-channel `contacts_per_debtor_day`. `opt_out_notice`: the text must
    tell how to opt out (a working opt-out), checked on the text itself.
    """

    window: CallingWindow
    per_debtor_day: int | None = None
    per_debt_7d: int | None = None
    counts_as_contact: bool = False
    opt_out_notice: bool = False


MESSAGE_CHANNELS = ("sms", "email")


@dataclass(frozen=True)
class Rules:
    calling_window: CallingWindow
    min_ring_seconds: int = 0
    attempts_per_debt_7d: int | None = None
    attempts_per_debt_24h: int | None = None
    conversation_cooldown_days: int | None = None
    conversations_per_debtor_day: int | None = None
    unanswered_per_number_day: int | None = None
    abandoned_call_lockout_hours: int | None = None
    abandon_rate: AbandonRule | None = None
    mobile_automated_consent: bool = False
    third_party_calls: ThirdPartyCalls = ThirdPartyCalls.NEVER
    debtor_unreachable_after_unanswered: int = 6
    identity_before_disclosure: bool = True
    recording_required: bool = False
    sms: ChannelRules | None = None
    email: ChannelRules | None = None
    contacts_per_debtor_day: int | None = None  # effective calls and contact-counting messages, all channels
    promise_grace_days: int = 3  # days after a promised date a payment still keeps the promise (settlement)


# For each figure, which direction is stricter: a campaign may only move that way.
_STRICTER_IS_LOWER = {"attempts_per_debt_7d", "attempts_per_debt_24h", "conversations_per_debtor_day",
                      "unanswered_per_number_day", "contacts_per_debtor_day", "per_debtor_day", "per_debt_7d"}
_STRICTER_IS_HIGHER = {"min_ring_seconds", "conversation_cooldown_days", "abandoned_call_lockout_hours",
                       "debtor_unreachable_after_unanswered", "promise_grace_days"}
_STRICTER_IS_TRUE = {"mobile_automated_consent", "identity_before_disclosure", "recording_required",
                     "counts_as_contact", "opt_out_notice"}


@dataclass(frozen=True)
class RulePack:
    name: str
    version: str
    title: str
    rules: Rules
    sources: tuple[str, ...] = field(default=())

    def tightened(self, overrides: dict[str, Any]) -> RulePack:
        """This pack with a campaign's overrides applied; raises if any override loosens a rule."""
        if not overrides:
            return self
        parsed = _parse_rules(f"{self.name} campaign overrides", {**_rules_to_raw(self.rules), **overrides})
        for key in overrides:
            before, after = getattr(self.rules, key), getattr(parsed, key)
            if not _is_tighter_or_equal(key, before, after):
                raise RulePackError(f"campaign override {key}={overrides[key]!r} loosens the {self.name} rule "
                                    f"({_show(before)}); overrides may only tighten")
        return dataclasses.replace(self, rules=parsed, version=f"{self.version}+campaign")


def _is_tighter_or_equal(key: str, before: Any, after: Any) -> bool:
    if before == after:
        return True
    if key in MESSAGE_CHANNELS:
        return after is None or (before is not None and all(
            _is_tighter_or_equal("calling_window" if item.name == "window" else item.name,
                                 getattr(before, item.name), getattr(after, item.name))
            for item in dataclasses.fields(ChannelRules)))
    if key == "calling_window":
        return after.start >= before.start and after.end <= before.end and after.start < after.end
    if key in _STRICTER_IS_LOWER:
        return before is not None and after is not None and after <= before
    if key in _STRICTER_IS_HIGHER:
        return after is not None and (before is None or after >= before)
    if key in _STRICTER_IS_TRUE:
        return bool(after) or not before
    if key == "third_party_calls":
        return after == ThirdPartyCalls.NEVER
    if key == "abandon_rate":
        return before is None or (after is not None and after.max <= before.max and after.window_hours >= before.window_hours)
    return False


def _show(value: Any) -> str:
    return str(value) if value is not None else "unset"


def _parse_time(where: str, text: Any) -> time:
    try:
        hours, minutes = str(text).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise RulePackError(f"{where}: {text!r} is not a time of day HH:MM") from None


def _window_to_raw(window: CallingWindow) -> dict[str, str]:
    return {"start": f"{window.start:%H:%M}", "end": f"{window.end:%H:%M}"}


def _rules_to_raw(rules: Rules) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for item in dataclasses.fields(rules):
        value = getattr(rules, item.name)
        if isinstance(value, CallingWindow):
            value = _window_to_raw(value)
        elif isinstance(value, AbandonRule):
            value = dataclasses.asdict(value)
        elif isinstance(value, ChannelRules):
            value = {**dataclasses.asdict(value), "window": _window_to_raw(value.window)}
        raw[item.name] = value
    return raw


def _parse_window(spot: str, value: Any) -> CallingWindow:
    if not isinstance(value, dict) or set(value) != {"start", "end"}:
        raise RulePackError(f"{spot} must be {{start: 'HH:MM', end: 'HH:MM'}}")
    window = CallingWindow(_parse_time(spot, value["start"]), _parse_time(spot, value["end"]))
    if window.start >= window.end:
        raise RulePackError(f"{spot}: start must be before end")
    return window


def _parse_channel(spot: str, value: Any) -> ChannelRules | None:
    if value is None:
        return None
    known = {f.name for f in dataclasses.fields(ChannelRules)}
    if not isinstance(value, dict) or "window" not in value or set(value) - known:
        raise RulePackError(f"{spot} must be a mapping with a window and only {sorted(known)}")
    values: dict[str, Any] = {"window": _parse_window(f"{spot}.window", value["window"])}
    for key in ("per_debtor_day", "per_debt_7d"):
        number = value.get(key)
        if number is not None and (not isinstance(number, int) or isinstance(number, bool) or number < 0):
            raise RulePackError(f"{spot}.{key}: expected a whole number >= 0")
        values[key] = number
    for key in ("counts_as_contact", "opt_out_notice"):
        flag = value.get(key, False)
        if not isinstance(flag, bool):
            raise RulePackError(f"{spot}.{key}: expected true or false")
        values[key] = flag
    return ChannelRules(**values)


def _parse_rules(where: str, raw: dict[str, Any]) -> Rules:
    known = {f.name: f for f in dataclasses.fields(Rules)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise RulePackError(f"{where}: unknown rule(s) {unknown}; the vocabulary is {sorted(known)}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        spot = f"{where}: rules.{key}"
        if key == "calling_window":
            values[key] = _parse_window(spot, value)
        elif key in MESSAGE_CHANNELS:
            values[key] = _parse_channel(spot, value)
        elif key == "abandon_rate":
            if value is None:
                values[key] = None
                continue
            if not isinstance(value, dict) or set(value) != {"max", "window_hours"}:
                raise RulePackError(f"{spot} must be {{max: 0.03, window_hours: 720}}")
            values[key] = AbandonRule(float(value["max"]), int(value["window_hours"]))
        elif key == "third_party_calls":
            try:
                values[key] = ThirdPartyCalls(value)
            except ValueError:
                raise RulePackError(f"{spot}: expected one of {[t.value for t in ThirdPartyCalls]}") from None
        elif known[key].type in ("bool",):
            if not isinstance(value, bool):
                raise RulePackError(f"{spot}: expected true or false")
            values[key] = value
        else:
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise RulePackError(f"{spot}: expected a whole number >= 0")
            values[key] = value
    if "calling_window" not in values:
        raise RulePackError(f"{where}: rules.calling_window is required")
    return Rules(**values)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RulePackError(f"{path.name}: {error}") from None
    if not isinstance(data, dict):
        raise RulePackError(f"{path.name}: not a mapping")
    unknown = sorted(set(data) - {"pack", "extends", "version", "title", "sources", "rules"})
    if unknown:
        raise RulePackError(f"{path.name}: unknown key(s) {unknown}")
    return data


def load_packs(directory: Path = PACK_DIR) -> dict[str, RulePack]:
    """Every pack in `directory`, keyed by jurisdiction code, inheritance resolved. Parsed once per version
    of the files (their names, sizes and modification times): a gate is built for every campaign runner and
    the parse took 40 ms of the event loop each time; an edited pack is read again at the next call."""
    paths = sorted(directory.glob("*.yaml"))
    stamp = tuple((path.name, *_stat(path)) for path in paths)
    cached = _PARSED.get(directory)
    if cached is None or cached[0] != stamp:
        cached = _PARSED[directory] = (stamp, _parse_packs(paths))
    return dict(cached[1])


def _stat(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError as error:
        raise RulePackError(f"{path.name}: {error}") from None
    return info.st_mtime_ns, info.st_size


_PARSED: dict[Path, tuple[tuple[tuple[str, int, int], ...], dict[str, RulePack]]] = {}


def _parse_packs(paths: list[Path]) -> dict[str, RulePack]:
    raw = {}
    for path in paths:
        data = _read(path)
        name = data.get("pack")
        if name != path.stem:
            raise RulePackError(f"{path.name}: 'pack' must be {path.stem!r}, found {name!r}")
        raw[name] = data
    packs: dict[str, RulePack] = {}

    def resolve(name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
        if name in seen:
            raise RulePackError(f"{name}.yaml: 'extends' cycle {' -> '.join((*seen, name))}")
        if name not in raw:
            raise RulePackError(f"{seen[-1]}.yaml extends unknown pack {name!r}")
        data = raw[name]
        base = resolve(data["extends"], (*seen, name)) if data.get("extends") else {}
        return {**base, **(data.get("rules") or {})}

    for name, data in raw.items():
        if not data.get("version"):
            raise RulePackError(f"{name}.yaml: 'version' is required")
        packs[name] = RulePack(name=name, version=str(data["version"]), title=str(data.get("title", name)),
                               rules=_parse_rules(f"{name}.yaml", resolve(name)),
                               sources=tuple(data.get("sources") or ()))
    return packs
