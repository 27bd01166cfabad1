"""The priority of a case: one scoring function for the hopper and the agents' work queues.

Days past due times balance, raised by half for each broken promise, a quarter of that when the debtor was
contacted recently (the contact gets time to work before the next one).
"""

from __future__ import annotations

from decimal import Decimal


def priority(days_past_due: int, balance: Decimal, broken_promises: int, contacted_recently: bool) -> float:
    score = max(days_past_due, 1) * float(balance) * (1 + 0.5 * broken_promises)
    return score / 4 if contacted_recently else score

