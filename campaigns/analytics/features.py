"""The features a propensity model may use, and the attributes it must never use.

The list is closed: a feature frame is built only from these names, and `check_features` refuses any name on
the protected denylist (sex, ethnicity, age and their proxies), so a model cannot learn them by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Call history enters as a rate (right-party conversations per attempt in the last 30 days), not as counts: a
# count grows with how long the store has been calling, so a model trained on a short history would score a
# longer one outside anything it learnt from (the bench's morning seed 3: trained on 5 days of calls, scored on
# 35, AUC 0.61 and willingness twice the truth).
FEATURES: tuple[str, ...] = (
    "contact_rate", "promises_kept", "promises_broken", "payments_90d", "paid_amount_90d",
    "days_past_due", "balance", "product", "region",
)
PROTECTED: frozenset[str] = frozenset({
    "sex", "gender", "ethnicity", "race", "nationality", "religion", "age", "birth_date", "date_of_birth",
    "birth_year", "marital_status", "disability",
})


class ProtectedFeature(ValueError):
    """A protected attribute was offered as a model feature."""


def check_features(names: Iterable[str]) -> tuple[str, ...]:
    """The names, refused when any is protected or unknown."""
    names = tuple(names)
    banned = sorted(n for n in names if n.lower() in PROTECTED)
    if banned:
        raise ProtectedFeature(f"protected attribute(s) may not be features: {', '.join(banned)}")
    unknown = sorted(set(names) - set(FEATURES))
    if unknown:
        raise ValueError(f"unknown feature(s): {', '.join(unknown)}")
    return names


def frame(rows: Iterable[Mapping[str, object]], names: Iterable[str] = FEATURES) -> list[dict[str, object]]:
    """One dict per account holding only the allowed feature columns; a missing feature names its row."""
    names = check_features(names)
    out = []
    for i, row in enumerate(rows):
        missing = [n for n in names if n not in row]
        if missing:
            raise ValueError(f"row {i}: missing feature(s) {', '.join(missing)}")
        out.append({n: row[n] for n in names})
    return out
