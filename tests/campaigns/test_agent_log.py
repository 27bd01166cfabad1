"""The agent state log: the desk's state changes, read off the event bus, become spans; the agent-time report
sums them by agent and team, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from campaigns.agent_log import log_agent_states, record
from campaigns.events import EventBus
from campaigns.reports import Window, run_report
from cases import Store
from cases.models import AgentProfile, AgentStateHour, AgentStateSpan, Promise, PromiseStatus, Source, Team
from dialer.agents import AgentEvent, AgentPool, AgentState, AgentStateChanged
from tests.campaigns.assignment_seed import add_case, add_user

S = AgentState
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)  # 09:00 in Beijing


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def spans(store: Store) -> list[tuple[str, str, int, int | None]]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(AgentStateSpan.agent, AgentStateSpan.state, AgentStateSpan.started_at,
                                         AgentStateSpan.ended_at).order_by(AgentStateSpan.id)).all()
    return [(r[0], r[1], int((r[2] - T0).total_seconds()),
             None if r[3] is None else int((r[3] - T0).total_seconds())) for r in rows]


async def test_the_desks_changes_on_the_bus_become_spans(store: Store) -> None:
    bus, pool, stop = EventBus(), AgentPool(), asyncio.Event()
    pool.subscribe(bus.publish)
    pool.add("li", {"collectors"})
    now = [0]
    writer = asyncio.get_running_loop().create_task(log_agent_states(bus, store, stop, lambda: at(now[0])))
    await asyncio.sleep(0.05)  # subscribed

    async def then(seconds: int, change: object) -> None:
        now[0] = seconds
        change()  # type: ignore[operator]
        for _ in range(200):
            await asyncio.sleep(0.01)
            if len(spans(store)) and spans(store)[-1][2] == seconds:
                return

    await then(0, lambda: pool.login("li", 0.0))
    await then(60, lambda: pool.ready("li", 1.0))
    await then(100, lambda: pool.pause("li", 2.0, "lunch"))
    now[0] = 400
    pool.apply("li", AgentEvent.LOGOUT, 3.0)
    for _ in range(200):
        await asyncio.sleep(0.01)
        if spans(store)[-1][3] is not None:
            break
    stop.set()
    await asyncio.wait_for(writer, 5)
    assert spans(store) == [("li", "paused", 0, 60), ("li", "ready", 60, 100), ("li", "paused", 100, 400)]
    with store.engine.connect() as connection:
        assert connection.scalar(select(AgentStateSpan.reason).where(AgentStateSpan.started_at == at(100))) == "lunch"
    assert hours(store) == [("li", 0, "paused", 360.0), ("li", 0, "ready", 40.0)]


def hours(store: Store) -> list[tuple[str, int, str, float]]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(AgentStateHour.agent, AgentStateHour.hour, AgentStateHour.state,
                                         AgentStateHour.seconds).order_by(AgentStateHour.hour,
                                                                          AgentStateHour.state)).all()
    return [(r[0], int((r[1] - T0).total_seconds()), r[2], r[3]) for r in rows]


def test_a_span_left_open_by_a_stopped_process_counts_nothing(store: Store) -> None:
    record(store, AgentStateChanged("li", S.PAUSED, S.READY, 0.0), at(0))
    record(store, AgentStateChanged("li", S.LOGGED_OUT, S.PAUSED, 0.0), at(3600))  # serve restarted
    assert spans(store) == [("li", "ready", 0, 0), ("li", "paused", 3600, None)]
    assert hours(store) == [("li", 0, "ready", 0.0)]


def test_a_span_counts_in_the_hour_it_began(store: Store) -> None:
    record(store, AgentStateChanged("li", S.READY, S.ON_CALL, 0.0), at(3000))
    record(store, AgentStateChanged("li", S.ON_CALL, S.WRAP_UP, 0.0), at(3900))  # 02:05
    record(store, AgentStateChanged("li", S.WRAP_UP, S.ON_CALL, 0.0), at(3960))
    record(store, AgentStateChanged("li", S.ON_CALL, S.WRAP_UP, 0.0), at(4000))
    assert hours(store) == [("li", 0, "on_call", 900.0), ("li", 3600, "on_call", 40.0),
                            ("li", 3600, "wrap_up", 60.0)]


@pytest.fixture
def shifts(store: Store) -> Store:
    """li (team east): 09:00 ready 600 s, on call 300, wrap 60, ready 240, on call 900, wrap 100, paused 400, out;
    zhao: ready 1800, on call 1200, wrap 0 s, paused 600 and still paused (not counted); a span on 11-03."""
    li, zhao = add_user(store, "li"), add_user(store, "zhao")
    account = add_case(store, "T-1")
    with store.session() as session:
        team = Team(name="east")
        session.add(team)
        session.flush()
        session.add(AgentProfile(user_id=li, team_id=team.id))
        for amount, status, by in (("500", PromiseStatus.KEPT, li), ("300", PromiseStatus.BROKEN, li),
                                   ("120", PromiseStatus.KEPT, zhao)):
            session.add(Promise(account_id=account, created_by=by, amount=Decimal(amount), source=Source.AGENT,
                                promised_for=date(2026, 11, 5), status=status, created_at=at(700)))
    for agent, states in (("li", [(S.READY, 600), (S.ON_CALL, 300), (S.WRAP_UP, 60), (S.READY, 240),
                                  (S.ON_CALL, 900), (S.WRAP_UP, 100), (S.PAUSED, 400), (S.LOGGED_OUT, 0)]),
                          ("zhao", [(S.READY, 1800), (S.ON_CALL, 1200), (S.WRAP_UP, 0), (S.PAUSED, 600)])):
        clock, old = 0, S.PAUSED
        for state, length in states:
            record(store, AgentStateChanged(agent, old, state, 0.0), at(clock))
            clock, old = clock + length, state
    record(store, AgentStateChanged("li", S.LOGGED_OUT, S.READY, 0.0), at(86400))
    record(store, AgentStateChanged("li", S.READY, S.LOGGED_OUT, 0.0), at(86400 + 50))
    return store


def report(store: Store, **window: object) -> list[dict[str, object]]:
    with store.engine.connect() as connection:
        return run_report(connection, "agent-time", Window(  # type: ignore[arg-type]
            **{"first": date(2026, 11, 2), "last": date(2026, 11, 2), "utc_offset_minutes": 480, **window})
        ).records()


def test_agent_time_by_agent(shifts: Store) -> None:
    li_hours = Decimal(2600) / 3600
    assert report(shifts, by="agent") == [
        {"group": "li", "logged_in_seconds": 2600, "ready_seconds": 840, "talk_seconds": 1200, "wrap_seconds": 160,
         "pause_seconds": 400, "occupancy": 1360 / 2200, "collected": Decimal("500.00"),
         "collected_per_agent_hour": (Decimal("500") / li_hours).quantize(Decimal("0.01"))},
        {"group": "zhao", "logged_in_seconds": 3000, "ready_seconds": 1800, "talk_seconds": 1200, "wrap_seconds": 0,
         "pause_seconds": 0, "occupancy": 0.4, "collected": Decimal("120.00"),
         "collected_per_agent_hour": Decimal("144.00")}]


def test_agent_time_by_team_and_day(shifts: Store) -> None:
    assert [(r["group"], r["logged_in_seconds"], r["collected"]) for r in report(shifts, by="team")] == [
        ("-", 3000, Decimal("120.00")), ("east", 2600, Decimal("500.00"))]
    days = report(shifts, period="day", by="agent", last=date(2026, 11, 3))
    assert [(r["period"], r["group"], r["logged_in_seconds"]) for r in days] == [
        ("2026-11-02", "li", 2600), ("2026-11-02", "zhao", 3000), ("2026-11-03", "li", 50)]
    with pytest.raises(ValueError, match="cannot be grouped by creditor"):
        report(shifts, by="creditor")
