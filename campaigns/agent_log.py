"""The agent state log's one writer (`cases.models.AgentStateSpan`, `AgentStateHour`): each `AgentStateChanged`
the desk puts on the event bus closes the agent's open span, adds its seconds to the sums of its hour, and opens
a span for the new state (none while logged out). The
event's own `at` is the desk's monotonic clock, so a span is dated by the wall clock when the event is read."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from campaigns.events import EventBus
from cases import Store
from cases.models import AgentStateHour, AgentStateSpan
from dialer.agents import AgentState, AgentStateChanged

log = logging.getLogger(__name__)


def record(store: Store, change: AgentStateChanged, at: datetime) -> None:
    """Close the agent's open span at `at` (adding its seconds to its hour's sum) and open the new state's. At a
    log-in the agent had no state, so a span still open was left by a process that stopped: its end is unknown
    and it is closed as it began (counting nothing) rather than stretched over the time the process was down."""
    with store.session() as session:
        for span in session.scalars(select(AgentStateSpan).where((AgentStateSpan.agent == change.agent_id)
                                                                 & AgentStateSpan.ended_at.is_(None))):
            span.ended_at = span.started_at if change.old is AgentState.LOGGED_OUT else at
            hour = span.started_at.replace(minute=0, second=0, microsecond=0)
            summed = session.get(AgentStateHour, (span.agent, hour, span.state))
            if summed is None:
                summed = AgentStateHour(agent=span.agent, hour=hour, state=span.state, seconds=0.0)
                session.add(summed)
            summed.seconds += (span.ended_at - span.started_at).total_seconds()
        if change.new is not AgentState.LOGGED_OUT:
            session.add(AgentStateSpan(agent=change.agent_id, state=change.new.value, reason=change.reason,
                                       started_at=at))


async def log_agent_states(bus: EventBus, store: Store, stop: asyncio.Event, clock: Callable[[], datetime]) -> None:
    """Write every agent state change on `bus` until `stop` is set."""
    with bus.subscribe(lambda event: isinstance(event, AgentStateChanged)) as changes:
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                change = asyncio.ensure_future(changes.next())
                await asyncio.wait((change, stopping), return_when=asyncio.FIRST_COMPLETED)
                if not change.done():
                    change.cancel()
                    break
                try:
                    await asyncio.to_thread(record, store, change.result(), clock())  # type: ignore[arg-type]
                except Exception:  # the store away: this span's edges are lost, the next change is logged
                    log.exception("an agent state change could not be logged")
        finally:
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopping
