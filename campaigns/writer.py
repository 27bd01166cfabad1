"""The runner's writes to the case store, in order and off the event loop, surviving store outages.

Each write is a function of a session, applied in its own transaction by one drainer task, in the order
submitted (a call's close never lands before its conversation mark). When the store is away the write is
retried with back-off (campaigns/outage.py) and the ones behind it wait in memory: nothing is lost while
the process lives, and a crash leaves the attempts in flight for recovery (campaigns/recovery.py). A write
that fails for another reason (a bug, a constraint) is not retried: its caller gets the error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from campaigns.outage import StoreHealth, is_outage
from cases import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


class StoreWriter:
    def __init__(self, store: Store, health: StoreHealth, live_calls: Callable[[], int] = lambda: 0) -> None:
        self.store, self.health, self.live_calls = store, health, live_calls
        self._queue: asyncio.Queue[tuple[Callable[[Session], Any], asyncio.Future[Any]]] = asyncio.Queue()
        self._drainer: asyncio.Task[None] | None = None
        self.backlog = 0  # writes submitted and not yet committed (or failed for good)

    def submit(self, write: Callable[[Session], T]) -> asyncio.Future[T]:
        """Queue `write`; the future is its result once committed (awaiting it is optional)."""
        if self._drainer is None:
            self._drainer = asyncio.ensure_future(self._drain())
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((write, future))
        self.backlog += 1
        return future

    def _apply(self, write: Callable[[Session], T]) -> T:
        with self.store.session() as session:
            return write(session)

    async def _drain(self) -> None:
        while True:
            write, future = await self._queue.get()
            try:
                while True:
                    try:
                        result = await asyncio.to_thread(self._apply, write)
                    except Exception as error:
                        if not is_outage(error):
                            log.exception("a campaign write failed")
                            future.set_exception(error)
                            break
                        await asyncio.sleep(self.health.failed(error, time.monotonic(), self.live_calls()))
                        continue
                    self.health.answered(time.monotonic())
                    future.set_result(result)
                    break
            finally:
                self.backlog -= 1
                self._queue.task_done()

    async def flush(self) -> None:
        """Wait until every write submitted so far is committed (or has failed for good)."""
        await self._queue.join()

    async def close(self) -> None:
        await self.flush()
        if self._drainer is not None:
            self._drainer.cancel()
