"""The terms a debtor may be offered, the same whether the IVR or an agent takes them: a promise of at least
the campaign's minimum and at most the balance, due from today to `latest_promise_days` ahead; a plan of
3, 6 or 12 monthly instalments of the balance from a month after today, the last taking the cents left.

Pure: no store and no clock (today is an argument), so the IVR's actions (`ivr.actions`) and the agent's
wrap-up (`campaigns.wrapup`) check and build with the same few lines and say no in their own way.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

PLAN_COUNTS = (3, 6, 12)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CampaignTerms:
    min_promise: Decimal = Decimal("1")
    latest_promise_days: int = 30
    callback_hours: tuple[int, int] = (8, 21)  # local hours a callback may be asked for (the calling window)


@dataclass(frozen=True)
class Refusal:
    """Why a promise is outside the terms: the field at fault, in words, and the bounds it must keep to."""

    field: str  # "amount" or "promised_for"
    message: str
    bounds: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_date: date
    amount: Decimal


def promise_refusal(amount: Decimal, promised_for: date, *, balance: Decimal, today: date,
                    terms: CampaignTerms) -> Refusal | None:
    """None when the promise keeps to the terms; else the first thing wrong with it (the amount first)."""
    if not terms.min_promise <= amount <= balance:
        return Refusal("amount", f"the amount must be from {terms.min_promise} to the balance {balance}",
                       {"minimum": str(terms.min_promise), "maximum": str(balance)})
    latest = today + timedelta(days=terms.latest_promise_days)
    if not today <= promised_for <= latest:
        return Refusal("promised_for", f"the date must be from {today} to {latest}",
                       {"earliest": today.isoformat(), "latest": latest.isoformat()})
    return None


def instalment_amount(balance: Decimal, count: int) -> Decimal:
    """Each instalment but the last: the balance shared out, rounded down to the cent."""
    return (balance / count).quantize(CENT, rounding=ROUND_DOWN)


def plan_schedule(balance: Decimal, count: int, today: date) -> list[Instalment]:
    """`count` monthly instalments of `balance` from a month after `today`; the last takes the cents left."""
    if count not in PLAN_COUNTS:
        raise ValueError(f"a plan has {', '.join(map(str, PLAN_COUNTS))} instalments, not {count}")
    each = instalment_amount(balance, count)
    return [Instalment(n + 1, add_months(today, n + 1), each if n < count - 1 else balance - each * (count - 1))
            for n in range(count)]


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter (31 January + 1 → 28/29 February)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
