"""Back-off for wrong digest answers, counted per key (a source address, a user name); pure, time injected.

After `max_failures` wrong answers, each within `block_s` of the one before, the key is blocked for
`block_s`. Every further lockout before a success doubles the block (up to `MAX_BLOCK_S`), so a patient
guesser who waits each block out gets slower and slower; a success, or a day without failures, forgets it.
The table keeps at most `capacity` keys, the least recently failed going first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

MAX_BLOCK_S = 24 * 3600.0
CAPACITY = 10_000


@dataclass(frozen=True)
class AuthLimits:
    """The registrar's limits (settings `sip_auth_*`). The per-user limit is higher than the per-source one:
    it only matters to guessers spread over many addresses, and it blocks the agent's new phones too."""

    max_failures_per_source: int = 10
    max_failures_per_user: int = 20
    block_s: float = 300.0


@dataclass
class Strikes:
    failures: int = 0
    last_failure: float = float("-inf")
    lockouts: int = 0  # since the last success
    blocked_until: float = float("-inf")


@dataclass
class Lockout:
    max_failures: int
    block_s: float
    capacity: int = CAPACITY
    _keys: OrderedDict[str, Strikes] = field(default_factory=OrderedDict)

    def __len__(self) -> int:
        return len(self._keys)

    def blocked_for(self, key: str, now: float) -> float:
        """Seconds until `key` may try again (0: it may now)."""
        strikes = self._keys.get(key)
        return max(0.0, strikes.blocked_until - now) if strikes else 0.0

    def failed(self, key: str, now: float) -> float:
        """Count a wrong answer; the length of the block it starts, 0 when it starts none."""
        strikes = self._keys.pop(key, None) or Strikes()
        self._keys[key] = strikes
        if len(self._keys) > self.capacity:
            self._keys.popitem(last=False)
        if now - strikes.last_failure > MAX_BLOCK_S:
            strikes.lockouts = 0
        if now - strikes.last_failure > self.block_s:
            strikes.failures = 0
        strikes.failures += 1
        strikes.last_failure = now
        if strikes.failures < self.max_failures:
            return 0.0
        block = min(self.block_s * 2**strikes.lockouts, MAX_BLOCK_S)
        strikes.failures, strikes.lockouts, strikes.blocked_until = 0, strikes.lockouts + 1, now + block
        return block

    def succeeded(self, key: str) -> None:
        self._keys.pop(key, None)
