"""The collection actions wait for the case store off the event loop: a call's 20 ms media clock keeps
ticking while an action waits for SQLite's write lock (held here by another connection, as a long import
or another node's writer would)."""

import asyncio
import sqlite3
import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cases import Store
from ivr.actions import CampaignTerms, collection_actions
from ivr.runtime import RunState
from tests.ivr.test_runtime import DOB, ID_PREFIX, NOW, seed

HOLD_S = 0.6  # how long the other connection keeps the write lock
TICK_S = 0.02  # the media clock's frame
MAX_LATENESS_S = 0.2  # a blocked loop would be late by about HOLD_S

VERIFIED = {"verified": True, "balance": Decimal("340.20")}
WRITING_ACTIONS: dict[str, tuple[dict[str, Any], str]] = {  # action -> (its variables, the answer expected)
    "verify_identity": ({"dob": DOB, "id_prefix": ID_PREFIX}, "verified"),
    "load_account": (VERIFIED, "ok"),
    "save_promise": ({**VERIFIED, "promise_amount": Decimal("50"), "promise_date": date(2026, 12, 10)}, "ok"),
    "save_plan": ({**VERIFIED, "plan_choice": 3}, "ok"),
    "request_callback": ({**VERIFIED, "callback_hour": 14}, "ok"),
    "dispute": (VERIFIED, "ok"),
    "cease": ({}, "ok"),
}


def hold_write_lock(path: str, held: threading.Event) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        held.set()
        threading.Event().wait(HOLD_S)
        connection.execute("COMMIT")
    finally:
        connection.close()


async def worst_lateness(done: asyncio.Event) -> float:
    """Tick every TICK_S until `done`; how late the latest tick woke."""
    loop, worst = asyncio.get_running_loop(), 0.0
    while not done.is_set():
        due = loop.time() + TICK_S
        await asyncio.sleep(TICK_S)
        worst = max(worst, loop.time() - due)
    return worst


@pytest.mark.parametrize("name", list(WRITING_ACTIONS))
async def test_item_3_actions_waiting_for_the_store_leave_the_media_clock_ticking(sqlite_store: Store,
                                                                                  name: str) -> None:
    account_id, _ = seed(sqlite_store)
    variables, expected = WRITING_ACTIONS[name]
    state = RunState("en", {"caller": "+14155550100", "account_id": account_id, "candidates": [account_id],
                            **variables})
    action = collection_actions(sqlite_store, CampaignTerms(), clock=lambda: NOW)[name]
    held = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(sqlite_store.engine.url.database, held))
    holder.start()
    held.wait()
    done, loop = asyncio.Event(), asyncio.get_running_loop()
    ticker, started = asyncio.ensure_future(worst_lateness(done)), loop.time()
    await asyncio.sleep(0)  # the clock is running before the action starts
    try:
        assert await action(state) == expected
        assert loop.time() - started > HOLD_S / 2  # it did wait for the lock
    finally:
        done.set()
        holder.join()
    assert await ticker < MAX_LATENESS_S
