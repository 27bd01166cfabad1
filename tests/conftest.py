"""Shared fixtures: the case store on SQLite and on the real PostgreSQL server, Redis servers.

PostgreSQL and Redis come from DUNLINE_TEST_PG_URL / DUNLINE_TEST_REDIS_URL (defaults: this machine's
127.0.0.1 servers). When a server is absent its tests are skipped with the reason printed, unless
DUNLINE_TEST_REQUIRE_SERVERS=1 (set by .ci/run when the servers run), which turns absence into failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cases import Store, migrate
from crypto import KEY_FILE, MasterKeys

PG_URL = os.environ.get("DUNLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("DUNLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVERS = os.environ.get("DUNLINE_TEST_REQUIRE_SERVERS") == "1"


def require(*programs: str) -> None:
    """A peer or tool that setup installs (deploy/apt-packages.txt): missing, the setup is broken; not a skip."""
    missing = [program for program in programs if shutil.which(program) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: run `make install` as root (deploy/apt-packages.txt)")


def server_missing(what: str, error: Exception) -> None:
    message = f"{what} not reachable ({error.__class__.__name__}: {error}); server tests skipped"
    if REQUIRE_SERVERS:
        pytest.fail(message + " but DUNLINE_TEST_REQUIRE_SERVERS=1")
    pytest.skip(message)


def fresh_pg_database(prefix: str = "dunline_test") -> Iterator[str]:
    """A new, empty PostgreSQL database's URL while the generator runs; dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # any failure to reach the server means: no server
        server_missing("PostgreSQL", error)
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    yield from fresh_pg_database()


@pytest.fixture(scope="session")
def pg_keys(tmp_path_factory: pytest.TempPathFactory) -> MasterKeys:
    """Master keys for the session's PostgreSQL stores (a SQLite store finds its own beside its file)."""
    return MasterKeys(tmp_path_factory.mktemp("pg-keys") / KEY_FILE)


@pytest.fixture(scope="session")
def pg_store(pg_database_url: str, pg_keys: MasterKeys) -> Iterator[Store]:
    store = Store(pg_database_url, keys=pg_keys)
    migrate.upgrade(store.engine)
    yield store
    store.dispose()


def share_keys(store: Store, data_dir: Path) -> Path:
    """The store's master key file copied into `data_dir`, as `dunline db upgrade` leaves an installation whose
    database holds a column key wrapped by it: a CLI or server there opens the store's personal columns."""
    assert store.columns.keys is not None
    data_dir.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(store.columns.keys.path, data_dir / KEY_FILE))


def _truncate_all(store: Store) -> None:
    from cases.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables if t.name != "column_keys")
    with store.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty case store on each backend."""
    if request.param == "sqlite":
        sqlite_store = Store(f"sqlite:///{tmp_path / 'cases.db'}")
        migrate.upgrade(sqlite_store.engine)
        yield sqlite_store
        sqlite_store.dispose()
        return
    shared: Store = request.getfixturevalue("pg_store")
    _truncate_all(shared)
    yield shared


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'cases.db'}")
    migrate.upgrade(s.engine)
    yield s
    s.dispose()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh key prefix on the test Redis server (absent: skipped, or failed under CI); its keys are deleted
    afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.ping()
    except redis.ConnectionError as error:
        server_missing("Redis", error)
    prefix = f"test:{uuid.uuid4().hex[:8]}"
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()
