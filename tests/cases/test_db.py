"""The store's transactions on SQLite: writers queue on the write lock; readers never wait for a writer."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from sqlalchemy import func, select

from cases import Store, migrate
from cases.models import Debtor


def test_probe_12_reads_do_not_wait_for_a_writer_holding_the_lock(tmp_path: Path) -> None:
    """A long import holds SQLite's write lock; a read through `Store.reading()` still answers at once
    from the last committed snapshot (before the fix every session began IMMEDIATE and queued for 30 s)."""
    path = tmp_path / "cases.db"
    store = Store(f"sqlite:///{path}")
    migrate.upgrade(store.engine)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO debtors (external_ref, full_name, language, created_at, updated_at) "
                   "VALUES ('D1', 'x', 'zh', '2026-01-01', '2026-01-01')")
    counted: list[int] = []

    def read() -> None:
        with store.reading() as session:
            counted.append(session.scalar(select(func.count()).select_from(Debtor)) or 0)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=5)
    try:
        assert counted == [0], "the read waited for the writer's lock"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.join(timeout=35)
        store.dispose()


def test_reading_sessions_change_nothing(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'cases.db'}")
    migrate.upgrade(store.engine)
    with store.reading() as session:
        session.add(Debtor(external_ref="D1", full_name="x"))
        session.flush()
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Debtor)) == 0
    store.dispose()
