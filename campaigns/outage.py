"""Case store outages as the runner lives through them: which errors are an outage (the database away, not
a bug), the back-off between retries, and one log line when the store goes and one when it is back.

While the store is away the runner fails closed: it dials nobody (no receipt can be written), keeps the
calls that are up, and queues the writes that close them (campaigns/writer.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

FIRST_RETRY_S = 0.5
MAX_RETRY_S = 15.0


def is_outage(error: BaseException) -> bool:
    """The database is unreachable, restarting, locked or dropped the connection: worth retrying."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


@dataclass
class StoreHealth:
    """Whether the store answered last, and when to try it again (monotonic seconds)."""

    delay_s: float = 0.0
    retry_at: float = 0.0
    down_since: float | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def may_try(self, now: float) -> bool:
        return not self.down or now >= self.retry_at

    def failed(self, error: BaseException, now: float, live_calls: int) -> float:
        """Record a failure; the seconds until the next try (doubling up to MAX_RETRY_S)."""
        if self.down_since is None:
            self.down_since = now
            log.error("case store unreachable (%s): dialling paused, %d live call(s) kept up, retrying",
                      error.__class__.__name__, live_calls)
        self.delay_s = min(MAX_RETRY_S, self.delay_s * 2 or FIRST_RETRY_S)
        self.retry_at = now + self.delay_s
        return self.delay_s

    def answered(self, now: float) -> None:
        if self.down_since is not None:
            log.warning("case store back after %.1f s: dialling resumes", now - self.down_since)
        self.down_since, self.delay_s = None, 0.0
