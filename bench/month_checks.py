"""Independent checks of a simulated month (bench/collections_month.py): recomputed from plain rows, not by
the product's gate or settlement code, so that a product bug shows up as a violation instead of agreeing
with itself.

The limits come straight from the rule packs' YAML (compliance/packs/*.yaml), read here with `yaml`; every
rule key a pack states that no check below covers is listed by `unchecked_rules`, so the report says what
was not verified. Each check returns `Violation`s; an empty list is a pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

PACKS = Path(__file__).resolve().parents[1] / "compliance" / "packs"
CHECKED_RULES = frozenset({"calling_window", "sms", "email", "conversations_per_debtor_day",
                           "unanswered_per_number_day", "contacts_per_debtor_day", "attempts_per_debt_7d",
                           "attempts_per_debt_24h", "conversation_cooldown_days"})
CHECKED_CHANNEL_RULES = frozenset({"window", "per_debtor_day", "counts_as_contact"})  # of `sms` and `email`


@dataclass(frozen=True)
class AttemptRow:
    id: int
    account_id: int
    debtor_id: int
    jurisdiction: str
    zones: tuple[str, ...]  # the debtor's home zone, else every zone of the number dialled
    channel: str  # "call" or "sms" or "email"
    number: str | None
    started_at: datetime  # aware
    conversation: bool


@dataclass(frozen=True)
class HoldRow:
    account_id: int | None
    debtor_id: int | None
    kind: str
    starts_at: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True)
class PromiseRow:
    id: int
    account_id: int
    amount: Decimal
    created_on: date  # the debtor's local date the promise was made
    promised_for: date
    state: str  # as the product left it


@dataclass(frozen=True)
class PaymentLine:
    """A statement line the simulation wrote, and the account it meant to pay (None: no usable reference)."""

    txn_id: str
    account_id: int | None
    paid_on: date  # the debtor's local date
    amount: Decimal


@dataclass(frozen=True)
class LineOutcome:
    txn_id: str
    status: str  # matched / unmatched / resolved
    account_id: int | None


@dataclass(frozen=True)
class Violation:
    check: str
    subject: str
    detail: str


def load_limits(directory: Path = PACKS) -> dict[str, dict]:  # type: ignore[type-arg]
    """Each pack's `rules`, by its jurisdiction name."""
    limits = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        limits[str(data["pack"]).upper()] = data["rules"]
    return limits


def unchecked_rules(limits: dict[str, dict]) -> dict[str, list[str]]:  # type: ignore[type-arg]
    return {name: sorted((set(rules) - CHECKED_RULES)
                         | {f"{channel}.{key}" for channel in ("sms", "email")
                            for key in set(rules.get(channel) or ()) - CHECKED_CHANNEL_RULES})
            for name, rules in limits.items()}


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _local(row: AttemptRow) -> datetime:
    """The local time in the row's first zone (its local day for the daily caps)."""
    return row.started_at.astimezone(ZoneInfo(row.zones[0]))


def windows(rows: Iterable[AttemptRow], limits: dict[str, dict]) -> list[Violation]:  # type: ignore[type-arg]
    """Each attempt's local time inside its channel's window: [start, end)."""
    found = []
    for row in rows:
        rules = limits[row.jurisdiction.upper()]
        window = rules["calling_window"] if row.channel == "call" else rules.get(row.channel, {}).get("window")
        if window is None:
            found.append(Violation("window", f"attempt {row.id}", f"{row.jurisdiction} has no {row.channel} window"))
            continue
        for zone in row.zones:  # a number spanning zones: inside the window in each of them
            local = row.started_at.astimezone(ZoneInfo(zone)).time()
            if not _clock(window["start"]) <= local < _clock(window["end"]):
                found.append(Violation("window", f"attempt {row.id}", f"{row.channel} at {local:%H:%M} local "
                                       f"({zone}), window {window['start']}-{window['end']}"))
    return found


def daily_caps(rows: Sequence[AttemptRow], limits: dict[str, dict]) -> list[Violation]:  # type: ignore[type-arg]
    """Per local day: messages per channel and debtor, conversations per debtor, unanswered calls per number,
    and contacts (conversations plus the messages the pack counts as contacts) per debtor."""
    counts: Counter[tuple[str, object, date, str]] = Counter()
    jurisdiction: dict[object, str] = {}
    for row in rows:
        day = _local(row).date()
        jurisdiction[row.debtor_id] = jurisdiction[row.number] = row.jurisdiction.upper()
        if row.channel == "call":
            if row.conversation:
                counts[("conversations_per_debtor_day", row.debtor_id, day, "")] += 1
                counts[("contacts_per_debtor_day", row.debtor_id, day, "")] += 1
            else:
                counts[("unanswered_per_number_day", row.number, day, "")] += 1
        else:
            counts[("per_debtor_day", row.debtor_id, day, row.channel)] += 1
            if limits[row.jurisdiction.upper()].get(row.channel, {}).get("counts_as_contact"):
                counts[("contacts_per_debtor_day", row.debtor_id, day, "")] += 1
    found = []
    for (rule, who, day, channel), count in sorted(counts.items(), key=str):
        rules = limits[jurisdiction[who]]
        cap = rules.get(channel, {}).get(rule) if channel else rules.get(rule)
        if cap is not None and count > cap:
            found.append(Violation(f"{channel or 'call'}:{rule}", f"{who} on {day}", f"{count} > {cap}"))
    return found


def rolling_caps(rows: Sequence[AttemptRow], limits: dict[str, dict]) -> list[Violation]:  # type: ignore[type-arg]
    """Calls per account within 7 consecutive local days (today and the 6 before, as Reg F's commentary counts
    them) or 24 hours, and no call before the cool-down's end: a conversation's local day is day 1 of it."""
    calls: dict[int, list[AttemptRow]] = defaultdict(list)
    for row in rows:
        if row.channel == "call":
            calls[row.account_id].append(row)
    found = []
    for account_id, own in calls.items():
        own.sort(key=lambda r: r.started_at)
        rules = limits[own[0].jurisdiction.upper()]
        week, day = rules.get("attempts_per_debt_7d"), rules.get("attempts_per_debt_24h")
        cooldown = rules.get("conversation_cooldown_days")
        for i, row in enumerate(own):
            today = _local(row).date()
            if week is not None:
                inside = sum(1 for other in own[:i + 1] if (today - _local(other).date()).days < 7)
                if inside > week:
                    found.append(Violation("attempts_per_debt_7d", f"account {account_id}",
                                           f"attempt {row.id}: {inside} > {week}"))
            if day is not None:
                inside = sum(1 for other in own[:i + 1] if row.started_at - other.started_at < timedelta(hours=24))
                if inside > day:
                    found.append(Violation("attempts_per_debt_24h", f"account {account_id}",
                                           f"attempt {row.id}: {inside} > {day}"))
            if cooldown and any(o.conversation and (today - _local(o).date()).days < cooldown for o in own[:i]):
                found.append(Violation("conversation_cooldown_days", f"account {account_id}",
                                       f"attempt {row.id} within {cooldown} days of a conversation"))
    return found


def held(rows: Iterable[AttemptRow], holds: Sequence[HoldRow]) -> list[Violation]:
    """No attempt on a held account or debtor while the hold lasts (an SMS opt-out holds SMS only)."""
    found = []
    for row in rows:
        for hold in holds:
            scoped = hold.account_id == row.account_id or (hold.account_id is None and hold.debtor_id == row.debtor_id)
            if hold.kind == "sms_opt_out" and row.channel != "sms":
                continue
            active = (hold.starts_at is None or hold.starts_at <= row.started_at) and \
                (hold.ends_at is None or row.started_at < hold.ends_at)
            if scoped and active:
                found.append(Violation("hold", f"attempt {row.id}", f"{row.channel} during a {hold.kind} hold"))
    return found


def expected_state(promise: PromiseRow, paid: Sequence[PaymentLine], grace_days: int, as_of: date) -> str:
    """kept / partly_kept / broken from the payments that reached the account from the promise's day to its
    date plus grace; pending while that deadline has not passed and it is not paid in full."""
    last = promise.promised_for + timedelta(days=grace_days)
    total = sum((p.amount for p in paid if promise.created_on <= p.paid_on <= min(last, as_of)), Decimal(0))
    if total >= promise.amount:
        return "kept"
    if as_of <= last:
        return "pending"
    return "partly_kept" if total > 0 else "broken"


def promises(rows: Iterable[PromiseRow], lines: Sequence[PaymentLine], grace_days: int,
             as_of: date) -> list[Violation]:
    by_account: dict[int, list[PaymentLine]] = defaultdict(list)
    for line in lines:
        if line.account_id is not None:
            by_account[line.account_id].append(line)
    found = []
    for promise in rows:
        want = expected_state(promise, by_account.get(promise.account_id, ()), grace_days, as_of)
        if promise.state != want:
            found.append(Violation("promise", f"promise {promise.id}", f"state {promise.state}, payments imply {want}"))
    return found


def deliveries(rows: Iterable[AttemptRow], states: dict[int, str | None]) -> list[Violation]:
    """Each SMS settled by its receipt: delivered, or failed where the SMSC peer fails the number
    (tests/peers/smsc.pl: a destination ending in 99); an attempt left queued or submitted lost its receipt."""
    found = []
    for row in rows:
        if row.channel != "sms":
            continue
        want = "failed" if (row.number or "").endswith("99") else "delivered"
        if states.get(row.id) != want:
            found.append(Violation("delivery", f"attempt {row.id}", f"{states.get(row.id)}, the SMSC's receipt "
                                   f"says {want}"))
    return found


def payments(lines: Sequence[PaymentLine], outcomes: Sequence[LineOutcome]) -> list[Violation]:
    """Each line with a usable reference matched to its account; each without one left in the unmatched queue."""
    stored = {o.txn_id: o for o in outcomes}
    found = []
    for line in lines:
        outcome = stored.get(line.txn_id)
        if outcome is None:
            found.append(Violation("payment", line.txn_id, "not imported"))
        elif line.account_id is None and outcome.status != "unmatched":
            found.append(Violation("payment", line.txn_id, f"no usable reference but {outcome.status} to "
                                   f"account {outcome.account_id}"))
        elif line.account_id is not None and (outcome.status != "matched" or outcome.account_id != line.account_id):
            found.append(Violation("payment", line.txn_id, f"for account {line.account_id} but {outcome.status} "
                                   f"to {outcome.account_id}"))
    return found
