"""Issue 21: a SQLite import at least as large as the accounts on file drops the secondary indexes it does not
read and builds them again before it commits (cases.importer.deferred). They come back exactly as the migrations
made them; a smaller import keeps them; a failed or dry import, and PostgreSQL, leave them as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from cases import Store
from cases.demo_data import generate_cases, write_csv
from cases.importer import CaseImporter
from cases.importer.deferred import DeferredIndexes
from cases.importer.load import ACCOUNTS, ADDRESSES, DEBTORS, PHONES
from tests.cases.test_importer import TODAY, counts

UNREAD = {"ix_accounts_status", "ix_accounts_due_date", "ix_accounts_jurisdiction", "ix_accounts_product",
          "ix_accounts_balance", "ix_debtors_national_id", "ix_phones_e164", "ix_addresses_region"}


def index_sql(store: Store) -> dict[str, str]:
    with store.engine.connect() as connection:
        return dict(connection.exec_driver_sql(  # type: ignore[arg-type]
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all())


@pytest.fixture
def dropped(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The indexes each import dropped, in order."""
    seen: list[set[str]] = []
    original = DeferredIndexes.drop_for

    def recording(*args: object) -> DeferredIndexes:
        deferred = original(*args)  # type: ignore[arg-type]
        seen.append({name for name, _ in deferred.definitions})
        return deferred

    monkeypatch.setattr(DeferredIndexes, "drop_for", recording)
    return seen


def sheet(tmp_path: Path, rows: int, name: str = "cases.csv") -> Path:
    path = tmp_path / name
    write_csv(path, generate_cases(rows, seed=11, today=TODAY))
    return path


def importer(store: Store) -> CaseImporter:
    return CaseImporter(store, actor="tester", default_region="CN", today=TODAY, batch_size=7)


def test_a_load_into_an_empty_store_drops_the_unread_indexes_and_builds_each_as_it_was(
        sqlite_store: Store, tmp_path: Path, dropped: list[set[str]]) -> None:
    before = index_sql(sqlite_store)
    report = importer(sqlite_store).run(sheet(tmp_path, 40))
    assert report.committed and report.inserted == 40
    assert dropped == [UNREAD]
    assert index_sql(sqlite_store) == before
    with sqlite_store.engine.connect() as connection:
        plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM phones WHERE e164 = 'x'"))
    assert "ix_phones_e164" in plan  # an inbound caller's lookup has its index again


def test_a_load_smaller_than_the_accounts_on_file_keeps_every_index(
        sqlite_store: Store, tmp_path: Path, dropped: list[set[str]]) -> None:
    importer(sqlite_store).run(sheet(tmp_path, 40))
    assert importer(sqlite_store).run(sheet(tmp_path, 39, "more.csv")).committed  # 39 rows < 40 accounts
    assert dropped == [UNREAD, set()]


def test_a_failed_or_dry_import_leaves_the_indexes_as_they_were(
        sqlite_store: Store, tmp_path: Path, dropped: list[set[str]]) -> None:
    before = index_sql(sqlite_store)
    assert not importer(sqlite_store).run(sheet(tmp_path, 40), dry_run=True).committed
    cases = list(generate_cases(40, seed=11, today=TODAY))
    cases[20]["balance"] = "lots"
    write_csv(bad := tmp_path / "bad.csv", cases)
    report = importer(sqlite_store).run(bad)
    assert report.invalid_rows == 1 and not report.committed
    assert dropped == [UNREAD, UNREAD]  # dropped for the load, and rolled back with it
    assert index_sql(sqlite_store) == before
    assert counts(sqlite_store)[0] == 0


def test_postgresql_keeps_its_indexes(store: Store) -> None:
    tables = (ACCOUNTS, DEBTORS, PHONES, ADDRESSES)
    with store.engine.begin() as connection:
        deferred = DeferredIndexes.drop_for(connection, tables, 10**6, ACCOUNTS)
        assert ({name for name, _ in deferred.definitions} == set()) == (store.engine.dialect.name == "postgresql")
        connection.rollback()
