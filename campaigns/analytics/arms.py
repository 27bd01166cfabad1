"""Champion/challenger: a stable random split of a campaign's cases, and the comparison of the two arms.

The arm is a hash of the campaign seed and account id, so a case stays in its arm across restarts and hosts.
The comparison is Welch's t interval on collected per case (unequal variances, normal approximation).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

CHAMPION, CHALLENGER = "champion", "challenger"


def arm(account_id: int, seed: str, challenger_share: float = 0.5) -> str:
    digest = hashlib.sha256(f"{seed}:{account_id}".encode()).digest()
    return CHALLENGER if int.from_bytes(digest[:8], "big") / 2**64 < challenger_share else CHAMPION


@dataclass(frozen=True)
class Comparison:
    champion_mean: float
    challenger_mean: float
    difference: float  # challenger minus champion
    low: float
    high: float  # 95% interval of the difference

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def compare(champion: Sequence[float], challenger: Sequence[float], z: float = 1.96) -> Comparison:
    """Welch interval of the difference of means; each arm needs two cases at least."""
    for name, xs in ((CHAMPION, champion), (CHALLENGER, challenger)):
        if len(xs) < 2:
            raise ValueError(f"{name} arm has {len(xs)} case(s); at least 2 are needed")
    m1, m2 = _mean(champion), _mean(challenger)
    se = math.sqrt(_var(champion) / len(champion) + _var(challenger) / len(challenger))
    d = m2 - m1
    return Comparison(m1, m2, d, d - z * se, d + z * se)


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def _var(xs: Sequence[float]) -> float:
    m = _mean(xs)
    return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)
