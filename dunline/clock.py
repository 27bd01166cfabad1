"""Wall clocks for the gates: the real one, or a simulated one that starts at a given instant and runs at the
real pace (demos and tests, whose debtors must be called at a lawful hour whatever the hour here)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone


def shifted_clock(at: datetime | None) -> Callable[[], datetime]:
    started = datetime.now(timezone.utc)

    def clock() -> datetime:
        now = datetime.now(timezone.utc)
        return at + (now - started) if at is not None else now
    return clock
