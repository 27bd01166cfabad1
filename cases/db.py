"""Engine and session factory for the case store (SQLite file or PostgreSQL by URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from cases.columns import SealedColumns
from crypto import KEY_FILE, MasterKeys


def normalise_url(url: str) -> str:
    """Plain `postgresql://` URLs use psycopg 3, the driver we ship."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


READ_ONLY = "dunline_read_only"


def _sqlite_begin_immediate(connection: Any) -> None:
    """Writers take the write lock at BEGIN so two writers queue instead of failing mid-transaction; readers
    (`Store.reading`) begin deferred and, under WAL, read a snapshot without ever waiting for a writer."""
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def default_keys(url: str) -> MasterKeys | None:
    """The master keys of a SQLite store opened without any: the key file beside the database file (where
    `dunline db upgrade` writes it in the data dir), or DUNLINE_MASTER_KEY. Other databases name theirs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return MasterKeys(Path(parsed.database).parent / KEY_FILE)
    return None


class Store:
    """The case store: one engine and its session factory, and the master keys that open its personal columns
    (cases.columns)."""

    def __init__(self, url: str, keys: MasterKeys | None = None, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        reading = self.engine.execution_options(**{READ_ONLY: True})
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.readers = sessionmaker(reading, expire_on_commit=False)
        self.columns = SealedColumns(reading, keys or default_keys(self.url))
        self.columns.install()

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: it never takes SQLite's write lock, so a long import or any other writer
        cannot stall the API or the SIP registrar. Whatever it changes is rolled back."""
        with self.readers() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
