"""The abandon ledger: live-answered calls not put through to an agent in time, per campaign.

The rate is abandoned / live-answered over a rolling window (720 h for US rules, 24 h for UK; any
window can be configured). Each abandon calls the hooks (safe-harbour message, number lockout, audit).
On a cluster node the rate is the floor's: the calls the other nodes answered in the window, as last read
from the case store by the runner, are set in `elsewhere` and counted with this node's own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallAbandoned:
    campaign_id: str
    call_id: str
    at: float


@dataclass
class AbandonLedger:
    campaign_id: str
    window_seconds: float
    target: float = 0.03
    hooks: list[Callable[[CallAbandoned], None]] = field(default_factory=list)
    _events: deque[tuple[float, bool]] = field(default_factory=deque)
    _answered: int = 0
    _abandoned: int = 0
    total_answered: int = 0  # since the ledger started, never expiring
    total_abandoned: int = 0
    elsewhere: tuple[int, int] = (0, 0)  # (abandoned, live answered) in the window by the floor's other nodes

    def record(self, at: float, abandoned: bool, call_id: str = "") -> None:
        """Record one live-answered call and whether it was abandoned."""
        self._events.append((at, abandoned))
        self._answered += 1
        self._abandoned += abandoned
        self.total_answered += 1
        self.total_abandoned += abandoned
        if abandoned:
            for hook in self.hooks:
                hook(CallAbandoned(self.campaign_id, call_id, at))

    def _expire(self, now: float) -> None:
        cutoff = now - self.window_seconds
        while self._events and self._events[0][0] <= cutoff:
            _, abandoned = self._events.popleft()
            self._answered -= 1
            self._abandoned -= abandoned

    def counts(self, now: float) -> tuple[int, int]:
        """(abandoned, live answered) inside the window ending at `now`, the other nodes' included."""
        self._expire(now)
        return self._abandoned + self.elsewhere[0], self._answered + self.elsewhere[1]

    def rate(self, now: float) -> float:
        abandoned, answered = self.counts(now)
        return abandoned / answered if answered else 0.0

    def headroom(self, now: float) -> float:
        """How many more abandons the window could take right now and stay at or under the target."""
        abandoned, answered = self.counts(now)
        return self.target * answered - abandoned
