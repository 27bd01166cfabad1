"""The in-process event bus: typed, frozen events (the dialer's `AgentStateChanged`, and the calls' own
below) published by whoever knows them first and read by subscribers such as the agent desktop's WebSocket.

Publishing never blocks and never fails: each subscriber has a bounded queue, and a subscriber too slow
to keep up loses its oldest events, not the publisher's time (a missed state change is re-read from the
REST API; the next event carries the current state anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

SUBSCRIBER_QUEUE = 256


@dataclass(frozen=True)
class ScreenPop:
    """An answered debtor bridged to `agent_id`: what the agent's screen shows (account, attempt, campaign)."""

    agent_id: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CallEnded:
    """The bridged call of `agent_id` is over; wrap-up begins."""

    agent_id: str
    attempt_id: int


class Subscription:
    def __init__(self, wanted: Callable[[object], bool], size: int) -> None:
        self.wanted = wanted
        self.queue: asyncio.Queue[object] = asyncio.Queue(size)

    def offer(self, event: object) -> None:
        if not self.wanted(event):
            return
        if self.queue.full():
            self.queue.get_nowait()  # the oldest goes
        self.queue.put_nowait(event)

    async def next(self) -> object:
        return await self.queue.get()


class EventBus:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def publish(self, event: object) -> None:
        for subscription in tuple(self._subscriptions):
            subscription.offer(event)

    @contextlib.contextmanager
    def subscribe(self, wanted: Callable[[object], bool] = lambda event: True,
                  size: int = SUBSCRIBER_QUEUE) -> Iterator[Subscription]:
        subscription = Subscription(wanted, size)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)


def drain(subscription: Subscription) -> list[object]:
    """The events a subscription holds now, without waiting."""
    events = []
    while not subscription.queue.empty():
        events.append(subscription.queue.get_nowait())
    return events
