"""Leads fetched ahead: one pass of the hopper over the campaign's segment serves the dials of the next few
seconds.

`Hopper.leads` reads the whole segment (the cases, their last calls, promises, phones) and asks the gate about
the best of them: with thousands of cases that is the runner's dearest work, and a predictive campaign asks for
a line or two many times a second. A 100-agent floor spent a third of `dunline serve`'s CPU there, in threads
that took the interpreter lock from the media clock. So the runner takes its leads from this buffer, which asks
the hopper for at least `FETCH` leads at a time and serves them until they are `TTL_S` old.

Nothing lawful rests on the buffer: `Hopper.claim` asks the gate again, in the locked transaction that writes
the attempt, for every lead dialled, so a lead that went stale while buffered (a window closed, a hold placed,
another runner dialled the case) is refused there and not dialled. A lead is served once; accounts in flight
are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from campaigns.hopper import Lead

FETCH = 100  # leads asked of the hopper at once: a gate batch, about ten seconds of dials on a 100-agent floor
TTL_S = 5.0  # a lead older than this is fetched anew (the ranking and the rests move on)


class LeadSource(Protocol):
    def leads(self, now: datetime, limit: int, *, exclude: frozenset[int] = ...) -> list[Lead]: ...


class LeadBuffer:
    def __init__(self, source: LeadSource, *, fetch: int = FETCH, ttl_s: float = TTL_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.source, self.fetch, self.ttl_s, self.monotonic = source, fetch, ttl_s, monotonic
        self._leads: list[Lead] = []
        self._fetched_at = float("-inf")

    def take(self, now: datetime, lines: int, exclude: frozenset[int]) -> list[Lead]:
        """Up to `lines` leads, best first, none of them for an account in `exclude`."""
        if lines <= 0:
            return []
        self._leads = [lead for lead in self._leads if lead.account_id not in exclude]
        if self.monotonic() - self._fetched_at >= self.ttl_s or len(self._leads) < lines:
            self._leads = self.source.leads(now, max(lines, self.fetch), exclude=exclude)
            self._fetched_at = self.monotonic()
        taken, self._leads = self._leads[:lines], self._leads[lines:]
        return taken
