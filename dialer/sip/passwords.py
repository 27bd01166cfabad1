"""The registrar's password lookup, kept off the event loop.

`lookup` reads the case store, which can be slow (a table locked by an import) or down. Run on the loop
it would stall the whole process with it, every live call's media included. Here it runs on a small
executor of its own (not the loop's default one, whose threads also resolve host names), at most
`max_pending` lookups at once and one per user at a time (a phone's retransmissions and a guesser's flood
share it), each awaited for `timeout_s`. When a lookup fails or does not answer in time, the password read
for that user within the last `fallback_s` is used, so phones registered before a database outage stay
registered through a short one; without such a password the lookup raises `PasswordsUnavailable` and the
registrar answers 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT_S = 4.0  # well inside a phone's Timer F (32 s): it hears 503 rather than nothing
MAX_PENDING = 32
FALLBACK_S = 600.0
WORKERS = 2


class PasswordsUnavailable(Exception):
    """The lookup failed or timed out and no recent password for the user is known."""


class PasswordLookup:
    def __init__(self, lookup: Callable[[str], str | None], *, clock: Callable[[], float],
                 timeout_s: float = LOOKUP_TIMEOUT_S, max_pending: int = MAX_PENDING,
                 fallback_s: float = FALLBACK_S) -> None:
        self.lookup = lookup
        self.clock = clock
        self.timeout_s = timeout_s
        self.max_pending = max_pending
        self.fallback_s = fallback_s
        self.failing = False
        self._executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="sip-passwords")
        self._pending: dict[str, asyncio.Future[str | None]] = {}
        self._recent: dict[str, tuple[str, float]] = {}  # user -> (password, when it was read)

    async def password_of(self, user: str) -> str | None:
        """The user's password, None when the user may not register; raises `PasswordsUnavailable`."""
        future = self._pending.get(user)
        if future is None:
            if len(self._pending) >= self.max_pending:
                return self._fallback(user, "too many lookups waiting")
            future = asyncio.get_running_loop().run_in_executor(self._executor, self.lookup, user)
            self._pending[user] = future
            future.add_done_callback(lambda done: self._settled(user, done))
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except Exception as error:  # whatever the store raised, or the timeout
            return self._fallback(user, type(error).__name__)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _settled(self, user: str, future: asyncio.Future[str | None]) -> None:
        """Every lookup ends here, also one nobody awaits any more: its answer still refreshes `_recent`."""
        if self._pending.get(user) is future:
            del self._pending[user]
        if future.cancelled() or future.exception() is not None:
            return
        password = future.result()
        if password is None:
            self._recent.pop(user, None)
        else:
            self._recent[user] = (password, self.clock())
        if self.failing:
            self.failing = False
            log.info("SIP password lookups answer again")

    def _fallback(self, user: str, why: str) -> str:
        if not self.failing:
            self.failing = True
            log.warning("SIP password lookup failing (%s): only passwords read in the last %d s are used",
                        why, self.fallback_s)
        recent = self._recent.get(user)
        if recent is not None and self.clock() - recent[1] <= self.fallback_s:
            return recent[0]
        raise PasswordsUnavailable(user)
