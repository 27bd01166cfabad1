"""One 20 ms media clock per process, driving every prompt player and recorder flush.

A task per call waking 50 times a second would cost more than the relay itself at a few hundred calls; one
clock visits only the sessions that have something to send, and corrects its own drift so the packets a
phone receives stay 20 ms apart on average. How late each tick woke is kept in a bounded histogram
(`lateness`): anything else holding the event loop (a database call, a slow handler) shows there first.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from dialer.latency import LatencyHistogram

log = logging.getLogger(__name__)
TICK_S = 0.020
MAX_LAG_S = 0.2  # further behind than this, skip ahead rather than send a burst


class Ticking(Protocol):
    def tick(self, now: float) -> bool:
        """Do this period's work; False to be dropped from the clock."""


class MediaClock:
    def __init__(self) -> None:
        self._members: set[Ticking] = set()
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.lateness = LatencyHistogram()  # seconds each tick woke after it was due

    def add(self, member: Ticking) -> None:
        self._members.add(member)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, member: Ticking) -> None:
        self._members.discard(member)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while self._members:
            now = loop.time()
            self.ticks += 1
            self.lateness.record(now - due)
            for member in list(self._members):
                try:
                    keep = member.tick(now)
                except Exception:  # one broken player must not silence every call
                    log.exception("media clock member failed")
                    keep = False
                if not keep:
                    self._members.discard(member)
            due += TICK_S
            if due < loop.time() - MAX_LAG_S:
                due = loop.time()
            await asyncio.sleep(max(0.0, due - loop.time()))

    def close(self) -> None:
        self._members.clear()
        if self._task is not None:
            self._task.cancel()
