"""Issue 21, import speed: rows parsed in a helper process beside the importer's give exactly what parsing alone
gives, in file order, each row once; a dead helper fails the import and writes nothing."""

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from cases import Store, migrate
from cases.demo_data import generate_cases, write_csv
from cases.importer import CaseImporter
from cases.importer.fields import ColumnMapping
from cases.importer.reader import Row, Table, open_table
from cases.importer.record import FieldError
from cases.importer.rows import ParsedRow, ParserFailed, RowParser, parsed_rows
from cases.models import Account, Address, Debtor, Phone
from tests.cases.test_importer import TODAY, counts

BATCH = 40


@pytest.fixture(params=["one thread", "threads"])
def start(request: pytest.FixtureRequest) -> Iterator[str]:
    """The helper is forked where this process has one thread (if no other test left one running), else spawned."""
    if request.param == "one thread":
        yield request.param
        return
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="idle")
    thread.start()
    yield request.param
    stop.set()
    thread.join()


def sheet(tmp_path: Path, rows: int = 600) -> Path:
    """Generated cases with a bad amount, a bad date and a duplicate account far apart (other batches)."""
    path = tmp_path / "cases.csv"
    write_csv(path, generate_cases(rows, seed=5, today=TODAY))
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    balance, due = header.index("balance"), header.index("due_date")
    for number, column, value in ((130, balance, "12.345"), (455, due, "2026-13-40")):
        cells = lines[number].split(",")
        cells[column] = value
        lines[number] = ",".join(cells)
    lines.append(lines[250])  # the same account again, 350 rows later
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored(store: Store) -> list[list[tuple[object, ...]]]:
    """Every imported table's rows without ids and times, in a stable order."""
    with store.reading() as session:
        return [
            sorted(session.execute(select(Account.creditor, Account.account_ref, Account.balance,
                                          Account.overdue_amount, Account.due_date, Account.product,
                                          Account.jurisdiction, Debtor.external_ref)
                                   .join(Debtor, Debtor.id == Account.debtor_id)).all()),
            sorted(session.execute(select(Debtor.external_ref, Debtor.full_name, Debtor.national_id,
                                          Debtor.birth_date, Debtor.language, Debtor.email)).all()),
            sorted(session.execute(select(Debtor.external_ref, Phone.e164, Phone.kind, Phone.owner,
                                          Phone.owner_name, Phone.relation, Phone.priority, Phone.consent_automated)
                                   .join(Debtor, Debtor.id == Phone.debtor_id)).all()),
            sorted(session.execute(select(Debtor.external_ref, Address.line1, Address.city, Address.region,
                                          Address.timezone)
                                   .join(Debtor, Debtor.id == Address.debtor_id)).all()),
        ]


def test_a_file_parsed_with_a_helper_imports_exactly_what_parsing_alone_imports(tmp_path: Path, start: str,
                                                                                probe: pytest.MonkeyPatch) -> None:
    path = sheet(tmp_path)
    probe.setattr("cases.importer.load.RowParser", HelperProbe)  # the helper surely parses some batches
    outcomes = []
    for name, helper_from in (("alone", 10 ** 9), ("helped", 1)):
        probe.setenv("PROBE_WAIT_AT", str(100 if helper_from == 1 else 10 ** 9))
        store = Store(f"sqlite:///{tmp_path / name}.db")
        migrate.upgrade(store.engine)
        importer = CaseImporter(store, actor="tester", default_region="CN", today=TODAY, batch_size=BATCH,
                                helper_from=helper_from)
        refused = importer.run(path)
        assert not refused.committed and counts(store) == (0, 0, 0, 0)
        report = importer.run(path, skip_invalid=True)
        outcomes.append(((refused.rows, refused.invalid_rows, refused.errors),
                         (report.rows, report.inserted, report.invalid_rows, report.errors), stored(store)))
        store.dispose()
    alone, helped = outcomes
    assert path.with_suffix(".helped").exists()
    assert helped == alone
    (rows, invalid, errors), _, _ = helped
    assert (rows, invalid) == (601, 3)
    assert [(e.row, e.column) for e in errors] == [(131, "balance"), (456, "due_date"), (602, "account_ref")]


class HelperProbe(RowParser):
    """A row parser that, in the helper, leaves a mark (then dies when PROBE_DIES is set); in the importer's
    process (PROBE_IMPORTER), it waits at row PROBE_WAIT_AT until the helper has left its mark: a spawned helper
    takes a while to start, and the importer would otherwise parse a test's whole file alone first. Told through
    the environment, which a spawned helper inherits."""

    def parse(self, row: Row) -> ParsedRow:
        mark = self.path.with_suffix(".helped")
        if os.getpid() != int(os.environ["PROBE_IMPORTER"]):
            mark.touch()
            if os.environ.get("PROBE_DIES"):
                os.kill(os.getpid(), signal.SIGKILL)
        elif row[0] >= int(os.environ["PROBE_WAIT_AT"]):
            for _ in range(6000):
                if mark.exists():
                    break
                time.sleep(0.01)
        return self.parsed(row)

    def parsed(self, row: Row) -> ParsedRow:
        return super().parse(row)


class WhoParsed(HelperProbe):
    """Each row as an 'error' naming the process that parsed it."""

    def parsed(self, row: Row) -> ParsedRow:
        return [FieldError(row[0], "pid", str(os.getpid()), "")]


class WhenParsed(HelperProbe):
    """Each row as an 'error' naming the process that parsed it and when, padded to make a batch of 500 rows
    larger than a pipe's buffer (64 KiB): a send of one completes only as the importer's process reads it."""

    def parsed(self, row: Row) -> ParsedRow:
        return [FieldError(row[0], "pid", f"{os.getpid()} {time.monotonic()} {'x' * 200}", "")]  # a new string each


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("PROBE_IMPORTER", str(os.getpid()))
    monkeypatch.setenv("PROBE_WAIT_AT", "100")
    return monkeypatch


def who_parsed(path: Path) -> tuple[WhoParsed, Table]:
    table = open_table(path)
    return WhoParsed(path, ColumnMapping().resolve(table.headers), table.headers, ColumnMapping(), "CN", TODAY,
                     "utf-8"), table


def test_both_processes_parse_and_every_row_comes_once_in_file_order(tmp_path: Path, start: str,
                                                                       probe: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cases.csv"
    write_csv(path, generate_cases(2000, seed=3, today=TODAY))
    parser, table = who_parsed(path)

    parsed = [errors[0] for errors in parsed_rows(parser, table, batch_size=20, helper_from=1)]

    assert [error.row for error in parsed] == list(range(2, 2002))
    by = {error.value for error in parsed}
    assert str(os.getpid()) in by and len(by) == 2  # this process and one helper
    assert not multiprocessing.active_children()  # the helper is gone once the file is read


def test_the_helper_parses_on_while_the_importer_is_busy_with_a_batch(tmp_path: Path, start: str,
                                                                    probe: pytest.MonkeyPatch) -> None:
    # The importer's process takes its first row and is then busy (as with writing a batch) for 3 s. The
    # helper's batches are received meanwhile, so it parses on: not one batch and then a send that waits.
    path = tmp_path / "cases.csv"
    write_csv(path, generate_cases(3000, seed=3, today=TODAY))
    table = open_table(path)
    parser = WhenParsed(path, ColumnMapping().resolve(table.headers), table.headers, ColumnMapping(), "CN", TODAY,
                        "utf-8")
    rows = parsed_rows(parser, table, batch_size=500, helper_from=1)

    first = next(rows)
    time.sleep(3)
    resumed = time.monotonic()
    parsed = [first, *rows]

    assert [errors[0].row for errors in parsed] == list(range(2, 3002))
    stamps = [errors[0].value.split()[:2] for errors in parsed]
    helper_before = [float(at) for pid, at in stamps if pid != str(os.getpid()) and float(at) < resumed]
    assert len(helper_before) >= 3 * 500, len(helper_before)
    assert not [t for t in threading.enumerate() if t.name == "dunline-import-inbox"]  # the receiving thread is gone


def test_a_small_file_is_parsed_without_a_helper(tmp_path: Path, probe: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cases.csv"
    write_csv(path, generate_cases(50, seed=3, today=TODAY))
    parser, table = who_parsed(path)
    assert {errors[0].value for errors in parsed_rows(parser, table, batch_size=5, helper_from=51)} == \
        {str(os.getpid())}


def helped_import(tmp_path: Path, probe: pytest.MonkeyPatch) -> tuple[Path, Store, CaseImporter]:
    """1,000 generated cases, an empty store, and an importer whose helper surely parses (HelperProbe)."""
    path = tmp_path / "cases.csv"
    write_csv(path, generate_cases(1000, seed=3, today=TODAY))
    store = Store(f"sqlite:///{tmp_path / 'cases.db'}")
    migrate.upgrade(store.engine)
    probe.setattr("cases.importer.load.RowParser", HelperProbe)
    return path, store, CaseImporter(store, actor="tester", default_region="CN", today=TODAY, batch_size=20,
                                     helper_from=1)


def test_a_helper_killed_mid_import_fails_it_and_nothing_is_written(tmp_path: Path, start: str,
                                                                     probe: pytest.MonkeyPatch) -> None:
    probe.setenv("PROBE_DIES", "1")
    path, store, importer = helped_import(tmp_path, probe)

    with pytest.raises(ParserFailed, match="ended unexpectedly .exit code -9.; nothing was imported"):
        importer.run(path)

    assert path.with_suffix(".helped").exists()
    assert counts(store) == (0, 0, 0, 0)
    assert not multiprocessing.active_children()
    store.dispose()


def test_the_helper_is_gone_when_an_import_stops_for_another_reason(tmp_path: Path, start: str,
                                                                    probe: pytest.MonkeyPatch) -> None:
    path, store, importer = helped_import(tmp_path, probe)

    def interrupted(done: int, total: int | None) -> None:
        if done >= 200:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        importer.run(path, progress=interrupted)

    assert path.with_suffix(".helped").exists()  # a helper was parsing
    assert not multiprocessing.active_children()
    assert counts(store) == (0, 0, 0, 0)
    store.dispose()
