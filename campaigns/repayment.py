"""Repayment plan proposals: from what the debtor says they can pay a month, within the creditor's limits.

The limits are data (`examples/payments/plan-limits.yaml`, per creditor and product): the most instalments, the
smallest instalment and the smallest down payment. A proposal is the down payment today, then monthly
instalments of the stated amount from a month later, the last taking what is left; or a `Refusal` naming the
field at fault and the bounds it must keep to (the same value the IVR's terms give, `ivr.terms`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_UP, Decimal
from pathlib import Path

import yaml

from ivr.terms import CENT, Instalment, Refusal, add_months


@dataclass(frozen=True)
class PlanLimits:
    max_instalments: int
    min_instalment: Decimal
    min_down_payment: Decimal = Decimal("0")


def load_limits(path: Path) -> dict[tuple[str, str], PlanLimits]:
    """(creditor, product) -> limits; product "*" applies to every product of the creditor."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    limits = {}
    for creditor, products in data.items():
        for product, values in products.items():
            try:
                limits[(str(creditor), str(product))] = PlanLimits(
                    int(values["max_instalments"]), Decimal(str(values["min_instalment"])),
                    Decimal(str(values.get("min_down_payment", 0))))
            except (KeyError, TypeError, ArithmeticError) as error:
                raise ValueError(f"{path}: {creditor}/{product}: bad or missing limit ({error})") from None
    return limits


def limits_for(limits: dict[tuple[str, str], PlanLimits], creditor: str, product: str) -> PlanLimits:
    found = limits.get((creditor, product)) or limits.get((creditor, "*"))
    if found is None:
        raise LookupError(f"no plan limits for creditor {creditor!r}, product {product!r}")
    return found


def propose(balance: Decimal, monthly: Decimal, limits: PlanLimits, today: date) -> list[Instalment] | Refusal:
    """The down payment due today, then instalments of `monthly` from a month later; or why not."""
    if monthly < limits.min_instalment:
        return Refusal("monthly", f"the monthly amount must be at least {limits.min_instalment}",
                       {"minimum": str(limits.min_instalment)})
    down = min(limits.min_down_payment, balance)
    rest = balance - down
    count = int((rest / monthly).to_integral_value(rounding=ROUND_UP)) if rest > 0 else 0
    if count > limits.max_instalments:
        needed = max((rest / limits.max_instalments).quantize(CENT, rounding=ROUND_UP), limits.min_instalment)
        return Refusal("monthly", f"{limits.max_instalments} instalments at most: pay at least {needed} a month",
                       {"minimum": str(needed), "max_instalments": str(limits.max_instalments)})
    schedule = [Instalment(1, today, down)] if down > 0 else []
    for n in range(count):
        amount = monthly if n < count - 1 else rest - monthly * (count - 1)
        schedule.append(Instalment(len(schedule) + 1, add_months(today, n + 1), amount))
    return schedule


class OutsideLimits(ValueError):
    """A schedule outside the creditor's limits; `refusal` names the field and the bounds."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"{refusal.field}: {refusal.message}")
        self.refusal = refusal


def respread(monthly: Decimal, limits: PlanLimits, today: date) -> Callable[[Decimal], list[Instalment]]:
    """For `cases.plans.reschedule`: what is still owed in instalments of `monthly` from a month after `today`,
    without a new down payment (the plan exists); `OutsideLimits` naming the field when outside the limits."""
    def spread(owed: Decimal) -> list[Instalment]:
        proposal = propose(owed, monthly, replace(limits, min_down_payment=Decimal("0")), today)
        if isinstance(proposal, Refusal):
            raise OutsideLimits(proposal)
        return proposal
    return spread
