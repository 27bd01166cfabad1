"""`evaluate(pack, facts, now) -> Decision`: pure, and its receipt is the whole explanation.

The receipt names the pack and its version, every check run with the values it saw, the verdict, and
the earliest lawful retry. `next_allowed_at` is found by re-evaluating at each failing check's cure time
until every check passes, so it is itself an allowed instant (given no new attempts meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property, lru_cache, partial
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from cases.masking import mask_email, mask_phone
from compliance.checks import (
    MESSAGE_PLAIN_CHECKS,
    MESSAGE_ZONED_CHECKS,
    PLAIN_CHECKS,
    ZONED_CHECKS,
    Check,
    contacts_per_debtor_day,
)
from compliance.facts import CallFacts
from compliance.localtime import zone
from compliance.rulepack import RulePack

RECEIPT_VERSION = 1
MAX_LOOKAHEAD = timedelta(days=400)


@dataclass(frozen=True)
class Decision:
    """A verdict, and its receipt, written out on first use (`write_receipt`).

    Lead selection decides on far more calls than are dialled and reads only the verdicts; keeping every
    decision's checks and receipt (some forty dicts and lists each) until the batch ended cost about a
    quarter of its time, most of it in the garbage collector (bench/gates.py: 12.2 s -> 8.9 s per 100,000).
    What the receipt says does not depend on when it is written: its inputs are frozen, its checks pure.
    """

    allowed: bool
    reasons: tuple[str, ...]
    next_allowed_at: datetime | None
    write_receipt: Callable[[], dict[str, Any]] = field(repr=False, compare=False)

    @cached_property
    def receipt(self) -> dict[str, Any]:
        return self.write_receipt()


@lru_cache(maxsize=4096)
def _known_zones(names: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(known, unknown) zone names; few distinct tuples exist, so each is sorted out once."""
    good, bad = [], []
    for name in names:
        try:
            zone(name)
            good.append(name)
        except (ZoneInfoNotFoundError, ValueError):
            bad.append(name)
    return tuple(good), tuple(bad)


def run_checks(pack: RulePack, facts: CallFacts, at: datetime) -> list[Check]:
    """Every check of the channel. A call reads only calls for the call rules; messages to the debtor add the
    cross-channel contact cap (absent when there are none, so a call's receipt is what it always was)."""
    rules = pack.rules
    messages = facts.campaign.channel != "call"
    if messages:
        plain, zoned, call_facts = MESSAGE_PLAIN_CHECKS, MESSAGE_ZONED_CHECKS, facts
    else:
        plain, zoned = PLAIN_CHECKS, ZONED_CHECKS
        messaged = any(a.channel != "call" for a in facts.attempts)
        call_facts = replace(facts, attempts=tuple(a for a in facts.attempts if a.channel == "call")) \
            if messaged else facts
    checks = [c for c in (check(rules, call_facts, at) for check in plain) if c is not None]
    zones, bad = _known_zones(facts.zones)
    zone_check = Check("time_zone_known", bool(zones) and not bad,
                       {"address_zone": facts.address_zone, "number_zones": list(facts.number_zones),
                        "unknown": list(bad)},
                       None if zones and not bad else "the debtor's local time cannot be established")
    checks.append(zone_check)
    if zone_check.passed:
        checks.extend(c for c in (check(rules, call_facts, at, zones) for check in zoned) if c is not None)
        if not messages and call_facts is not facts:
            cross = contacts_per_debtor_day(rules, facts, at, zones)
            if cross is not None:
                checks.append(cross)
    return checks


def next_allowed(pack: RulePack, facts: CallFacts, now: datetime, checks: list[Check]) -> datetime | None:
    at = now
    for _ in range(64):
        failing = [c for c in checks if not c.passed]
        if not failing:
            return at
        cures = [c.retry_at for c in failing]
        if any(cure is None for cure in cures):
            return None
        at = max(cure for cure in cures if cure is not None)
        if at - now > MAX_LOOKAHEAD:
            return None
        checks = run_checks(pack, facts, at)
    return None


def evaluate(pack: RulePack, facts: CallFacts, now: datetime) -> Decision:
    if now.tzinfo is None:
        raise ValueError("evaluate needs an aware datetime")
    checks = run_checks(pack, facts, now)
    allowed = all(c.passed for c in checks)
    reasons = tuple(c.reason or c.rule for c in checks if not c.passed)
    retry = None if allowed else next_allowed(pack, facts, now, checks)
    return Decision(allowed, reasons, retry, partial(write_receipt, pack, facts, now, retry))


def write_receipt(pack: RulePack, facts: CallFacts, now: datetime, retry: datetime | None) -> dict[str, Any]:
    """The receipt of `evaluate(pack, facts, now)`, whose checks are run again (they are pure) rather than
    kept: a batch's decisions then hold no more than their facts until a receipt is wanted."""
    checks = run_checks(pack, facts, now)
    allowed = all(c.passed for c in checks)
    return {
        "receipt_version": RECEIPT_VERSION,
        "verdict": "allowed" if allowed else "refused",
        "evaluated_at": now.isoformat(),
        "pack": {"name": pack.name, "version": pack.version, "title": pack.title},
        "subject": {
            "account_id": facts.account_id, "debtor_id": facts.debtor_id, "phone_id": facts.phone_id,
            "number": mask_phone(facts.e164), "owner": facts.phone_owner, "jurisdiction": facts.jurisdiction,
            "campaign_id": facts.campaign.campaign_id, "automated": facts.campaign.automated,
            **({"channel": facts.campaign.channel, "address": mask_email(facts.address)}
               if facts.campaign.channel != "call" else {}),
        },
        "checks": [{"rule": c.rule, "passed": c.passed, "saw": c.saw, **({"reason": c.reason} if c.reason else {})}
                   for c in checks],
        "next_allowed_at": retry.isoformat() if retry else None,
    }


def refusal(reason: str, now: datetime, subject: dict[str, Any] | None = None) -> Decision:
    """Fail closed: a decision that could not be made is a refusal that says why."""
    return Decision(False, (reason,), None, lambda: {
        "receipt_version": RECEIPT_VERSION, "verdict": "refused", "evaluated_at": now.isoformat(),
        "pack": None, "subject": subject or {}, "checks": [], "error": reason, "next_allowed_at": None,
    })
