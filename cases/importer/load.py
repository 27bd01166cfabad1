"""Transactional, idempotent case import.

The whole file goes in one transaction. Rows are validated and written in batches (Core statements,
no ORM unit of work, so memory stays flat); any invalid row stops the writing and, unless
`skip_invalid`, the transaction is rolled back at the end, after every row has been checked so the
report is complete. Accounts are upserted by (creditor, account_ref); debtors by their creditor
customer reference (else national ID, else the account). An import never touches the compliance state
of a number already on file (DNC, consent, status): those change through their own audited paths.

An account on file stays with its debtor: holds and the dial history hang on the debtor, and moving an
account to another one would escape them. A row for such an account is matched to that debtor whatever
identity columns it lacks; a row that names a different debtor (customer reference or national ID) is
an error. Updates write only the fields a row carries (`CaseRecord.given`): blanks never wipe.
"""

from __future__ import annotations

import gc
import hashlib
from operator import attrgetter
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from cases.audit import AuditDraft, append
from cases.db import Store
from cases.importer.deferred import DeferredIndexes
from cases.importer.fields import STORED_IN, ColumnMapping
from cases.importer.lookup import among
from cases.importer.reader import open_table
from cases.importer.record import NATIONAL_ID_REF, CaseRecord, FieldError
from cases.importer.rows import HELPER_FROM_ROWS, RowParser, parsed_rows
from cases.importer.seen import SeenAccounts
from cases.importer.writer import TableWriter
from cases.masking import mask_phone
from cases.models.sealed import cipher_of
from cases.models import (
    Account,
    AccountStatus,
    Address,
    AddressKind,
    Debtor,
    ImportRun,
    Phone,
    PhoneStatus,
    utcnow,
)

ACCOUNTS, DEBTORS, ADDRESSES, PHONES = (Account.__table__, Debtor.__table__, Address.__table__, Phone.__table__)
ACCOUNT_FIELDS = ("product", "currency", "principal", "balance", "overdue_amount", "due_date", "credit_limit",
                  "jurisdiction", "charged_off", "time_barred")
DEBTOR_FIELDS = ("full_name", "national_id", "birth_date", "language", "email")
ADDRESS_FIELDS = {column.name: name for name, column in STORED_IN.items()  # column -> import field
                  if column.table is ADDRESSES}
# The columns each insert writes, in the order its rows list them.
NEW_ACCOUNT = (*ACCOUNT_FIELDS, "creditor", "account_ref", "debtor_id", "import_id", "status", "created_at",
               "updated_at")
NEW_DEBTOR = ("external_ref", "created_at", "updated_at", *DEBTOR_FIELDS)
NEW_ADDRESS = ("debtor_id", "kind", *ADDRESS_FIELDS)
ACCOUNT_VALUES = attrgetter(*ACCOUNT_FIELDS)
# A new debtor's national ID goes in as the importer sealed it (with its token where it is filed under one).
NEW_DEBTOR_VALUES = attrgetter(*("sealed_national_id" if name == "national_id" else name for name in DEBTOR_FIELDS))
ADDRESS_VALUES = attrgetter(*ADDRESS_FIELDS.values())
NEW_PHONE = ("debtor_id", "e164", "kind", "owner", "owner_name", "relation", "priority", "consent_automated",
             "consent_at", "source", "status", "dnc")
MAX_KEPT_ERRORS = 10_000


@dataclass
class ImportReport:
    file_name: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid_rows: int = 0
    errors: list[FieldError] = field(default_factory=list)
    committed: bool = False
    dry_run: bool = False
    import_id: int | None = None
    encoding: str | None = None  # how a text file was decoded

    def reject(self, errors: list[FieldError]) -> None:
        self.invalid_rows += 1
        self.errors.extend(errors[: max(0, MAX_KEPT_ERRORS - len(self.errors))])

    @property
    def skipped(self) -> int:
        return self.invalid_rows


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class CaseImporter:
    def __init__(self, store: Store, *, actor: str, default_region: str, today: date | None = None,
                 batch_size: int = 2000, helper_from: int = HELPER_FROM_ROWS) -> None:
        """`helper_from`: the rows from which a file is parsed with a helper process as well (cases.importer.rows)."""
        self.store, self.actor, self.default_region = store, actor, default_region
        self.today = today or date.today()
        self.batch_size, self.helper_from = batch_size, helper_from
        self._writers: dict[tuple[str, tuple[str, ...], frozenset[str]], TableWriter] = {}

    def run(self, path: Path, mapping: ColumnMapping | None = None, *, dry_run: bool = False,
            skip_invalid: bool = False, progress: Callable[[int, int | None], None] | None = None) -> ImportReport:
        mapping = mapping or ColumnMapping()
        table = open_table(path)
        index = mapping.resolve(table.headers)
        report = ImportReport(file_name=path.name, dry_run=dry_run, encoding=table.encoding)

        def column(name: str) -> str:
            return table.headers[index[name]] if name in index else f"{name} (default)"

        seen = SeenAccounts()  # each account's first row, to name it beside a duplicate
        parser = RowParser(path, index, table.headers, mapping, self.default_region, self.today,
                           table.encoding or "text")
        parsing = closing(parsed_rows(parser, table, self.batch_size, self.helper_from))  # and its helper with it
        with self.store.sessions() as session, _heap_frozen(), parsing as rows:
            run = ImportRun(file_name=path.name, file_sha256=file_sha256(path), actor=self.actor)
            session.add(run)
            session.flush()
            report.import_id = run.id
            deferred = DeferredIndexes.drop_for(session.connection(), (ACCOUNTS, DEBTORS, PHONES, ADDRESSES),
                                                table.total, ACCOUNTS)
            batch: list[CaseRecord] = []
            for parsed in rows:
                report.rows += 1
                if isinstance(parsed, list):
                    report.reject(parsed)
                    continue
                batch.append(parsed)
                if len(batch) >= self.batch_size:
                    self._flush(session, batch, run.id, report, column, seen,
                                write=skip_invalid or not report.invalid_rows)
                    batch = []
                    if progress:
                        progress(report.rows, table.total)
            if batch:
                self._flush(session, batch, run.id, report, column, seen,
                            write=skip_invalid or not report.invalid_rows)
            if progress:
                progress(report.rows, table.total)
            if dry_run or (report.invalid_rows and not skip_invalid):
                session.rollback()
                return report
            deferred.build(session.connection())
            run.finished_at = utcnow()
            run.inserted, run.updated, run.skipped = report.inserted, report.updated, report.invalid_rows
            append(session, [AuditDraft(self.actor, "cases.imported", "import", run.id, {
                "file": path.name, "sha256": run.file_sha256, "rows": report.rows, "inserted": report.inserted,
                "updated": report.updated, "unchanged": report.unchanged, "skipped_invalid": report.invalid_rows,
            })])
            session.commit()
            report.committed = True
        return report

    def _flush(self, session: Any, batch: list[CaseRecord], import_id: int, report: ImportReport,
               column: Callable[[str], str], seen: SeenAccounts, *, write: bool) -> None:
        """Reject rows naming an account an earlier row of the file named, match the rest to the accounts on
        file, reject rows naming another debtor, write the rest if `write`.

        The matching runs even when nothing will be written (an earlier row was invalid), so the report
        names every such row."""
        firsts = seen.first_rows([(r.creditor, r.account_ref) for r in batch], [r.row for r in batch])
        for record, first in zip(batch, firsts):
            if first is not None:
                report.reject([FieldError(record.row, column("account_ref"), record.account_ref,
                                          f"duplicate account in this file (first at row {first})")])
        batch = [record for record, first in zip(batch, firsts) if first is None]
        conn = session.connection()
        filed_by_id = [r for r in batch if r.debtor_ref.startswith(NATIONAL_ID_REF) and r.national_id]
        sealed, tokens = cipher_of(conn.dialect).seal_with_tokens([r.national_id for r in filed_by_id])
        for record, sealed_id, token in zip(filed_by_id, sealed, tokens):
            record.sealed_national_id, record.debtor_ref = sealed_id, NATIONAL_ID_REF + token
        on_file = {(row.creditor, row.account_ref): row for row in conn.execute(
            select(ACCOUNTS, DEBTORS.c.external_ref.label("debtor_ref"), DEBTORS.c.national_id.label("debtor_nid"))
            .join(DEBTORS, DEBTORS.c.id == ACCOUNTS.c.debtor_id)
            # Both key columns, so the lookup uses their unique index instead of scanning every account.
            .where(among(ACCOUNTS.c.creditor, {r.creditor for r in batch}, conn.dialect),
                   among(ACCOUNTS.c.account_ref, [r.account_ref for r in batch], conn.dialect)))}
        kept = []
        for record in batch:
            old = on_file.get((record.creditor, record.account_ref))
            if old is not None:
                conflict = _names_another_debtor(record, old.debtor_ref, old.debtor_nid)
                if conflict:
                    name, value = conflict
                    report.reject([FieldError(record.row, column(name), value,
                                              f"account {record.account_ref} is on file under another debtor; "
                                              "an import never moves an account between debtors")])
                    continue
                record.debtor_ref = old.debtor_ref  # its debtor, whatever reference the row would make up
            kept.append(record)
        if write:
            self._write(session, kept, on_file, import_id, report)

    def _insert(self, conn: Any, table: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]],
                converted: frozenset[str] = frozenset()) -> None:
        """New `rows` (tuples in `columns` order) through the driver's bulk path, prepared once per import;
        the `converted` columns' values come ready for the driver (TableWriter)."""
        if not rows:
            return
        key = (table.name, columns, converted)
        if key not in self._writers:
            self._writers[key] = TableWriter(conn, table, columns, converted)
        self._writers[key].write(conn, rows)

    def _write(self, session: Any, batch: list[CaseRecord], existing: dict[tuple[str, str], Any], import_id: int,
               report: ImportReport) -> None:
        conn = session.connection()
        audit: list[AuditDraft] = []
        debtor_ids = self._upsert_debtors(conn, batch, audit)
        self._add_phones(conn, batch, debtor_ids, audit)

        new_rows, changed_rows = [], []
        now = utcnow()
        for record in batch:
            old = existing.get((record.creditor, record.account_ref))
            if old is None:
                new_rows.append((*ACCOUNT_VALUES(record), record.creditor, record.account_ref,
                                 debtor_ids[record.debtor_ref], import_id, AccountStatus.OPEN, now, now))
                continue
            values = _carried(record, old, ACCOUNT_FIELDS)
            if "overdue_amount" not in record.given and values["overdue_amount"] > values["balance"]:
                values["overdue_amount"] = values["balance"]  # never more overdue than owed
            changes = {k: [_plain(getattr(old, k)), _plain(v)] for k, v in values.items() if _plain(getattr(old, k)) != _plain(v)}
            if not changes:
                report.unchanged += 1
                continue
            changed_rows.append({**values, "b_id": old.id, "import_id": import_id, "updated_at": utcnow()})
            audit.append(AuditDraft(self.actor, "account.updated_by_import", "account", old.id,
                                    {"import_id": import_id, "changes": changes}))
        self._insert(conn, ACCOUNTS, NEW_ACCOUNT, new_rows)
        if changed_rows:
            conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("b_id")), changed_rows)
        report.inserted += len(new_rows)
        report.updated += len(changed_rows)
        append(session, audit)

    def _upsert_debtors(self, conn: Any, batch: list[CaseRecord], audit: list[AuditDraft]) -> dict[str, int]:
        latest: dict[str, CaseRecord] = {r.debtor_ref: r for r in batch}  # the last row of a debtor wins
        found = {row.external_ref: row for row in
                 conn.execute(select(DEBTORS).where(among(DEBTORS.c.external_ref, latest, conn.dialect)))}
        ids = {ref: row.id for ref, row in found.items()}
        fresh = [r for ref, r in latest.items() if ref not in found]
        if fresh:
            now, cipher = utcnow(), cipher_of(conn.dialect)
            # Sealed with its token where the debtor is filed under it, else here, the batch's in one call.
            unsealed = [r for r in fresh if r.national_id and r.sealed_national_id is None]
            for r, sealed in zip(unsealed, cipher.seal_all([r.national_id for r in unsealed])):
                r.sealed_national_id = sealed
            self._insert(conn, DEBTORS, NEW_DEBTOR, [
                (r.debtor_ref, now, now, *NEW_DEBTOR_VALUES(r)) for r in fresh
            ], converted=frozenset({"national_id"}))
            # One SELECT beats RETURNING here: SQLite can only return ids in order row by row.
            ids.update((ref, debtor_id) for ref, debtor_id in conn.execute(
                select(DEBTORS.c.external_ref, DEBTORS.c.id).where(
                among(DEBTORS.c.external_ref, [r.debtor_ref for r in fresh], conn.dialect))))
        changed = []
        for ref, row in found.items():
            values = _carried(latest[ref], row, DEBTOR_FIELDS)
            names = [k for k in DEBTOR_FIELDS if _plain(getattr(row, k)) != _plain(values[k])]
            if names:
                changed.append({"b_id": row.id, "updated_at": utcnow(), **values})
                # Field names only: the audit log must not become a second copy of personal data.
                audit.append(AuditDraft(self.actor, "debtor.updated_by_import", "debtor", row.id, {"fields": names}))
        if changed:
            conn.execute(update(DEBTORS).where(DEBTORS.c.id == bindparam("b_id")), changed)
        self._replace_addresses(conn, [latest[ref] for ref in found], ids)
        self._insert(conn, ADDRESSES, NEW_ADDRESS, [
            (ids[r.debtor_ref], AddressKind.HOME, *ADDRESS_VALUES(r)) for r in fresh
        ])
        return ids

    def _replace_addresses(self, conn: Any, records: list[CaseRecord], ids: dict[str, int]) -> None:
        """The home address of debtors on file, for rows that carry any part of it; the rest is kept."""
        records = [r for r in records if r.given & set(ADDRESS_FIELDS.values())]
        if not records:
            return
        debtor_ids = [ids[r.debtor_ref] for r in records]
        stored: dict[int, Any] = {}
        for row in conn.execute(select(ADDRESSES).where(ADDRESSES.c.debtor_id.in_(debtor_ids),
                                                        ADDRESSES.c.kind == AddressKind.HOME.value)
                                .order_by(ADDRESSES.c.id.desc())):
            stored[row.debtor_id] = row  # the oldest wins
        conn.execute(delete(ADDRESSES).where(ADDRESSES.c.debtor_id.in_(debtor_ids),
                                             ADDRESSES.c.kind == AddressKind.HOME.value))
        rows = []
        for record in records:
            old = stored.get(ids[record.debtor_ref])
            rows.append((ids[record.debtor_ref], AddressKind.HOME, *(
                getattr(record, name) if old is None or name in record.given else getattr(old, column)
                for column, name in ADDRESS_FIELDS.items())))
        self._insert(conn, ADDRESSES, NEW_ADDRESS, rows)

    def _add_phones(self, conn: Any, batch: Iterable[CaseRecord], debtor_ids: dict[str, int],
                    audit: list[AuditDraft]) -> None:
        wanted: dict[tuple[int, str], tuple[Any, ...]] = {}  # in NEW_PHONE order
        now = utcnow()
        for record in batch:
            debtor_id = debtor_ids[record.debtor_ref]
            for phone in record.phones:
                wanted.setdefault((debtor_id, phone.e164), (
                    debtor_id, phone.e164, phone.kind, phone.owner, phone.owner_name, phone.relation, phone.priority,
                    phone.consent_automated, now if phone.consent_automated else None, "import",
                    PhoneStatus.ACTIVE, False))
        if not wanted:
            return
        on_file = {(debtor_id, e164) for debtor_id, e164 in conn.execute(
            select(PHONES.c.debtor_id, PHONES.c.e164).where(among(PHONES.c.debtor_id, {d for d, _ in wanted}, conn.dialect)))}
        new = [values for key, values in wanted.items() if key not in on_file]
        self._insert(conn, PHONES, NEW_PHONE, new)
        known_debtors = {d for d, _ in on_file}
        audit.extend(AuditDraft(self.actor, "phone.added_by_import", "debtor", debtor_id,
                                {"number": mask_phone(e164), "owner": str(owner)})
                     for debtor_id, e164, _, owner, *_ in new if debtor_id in known_debtors)


@contextmanager
def _heap_frozen() -> Iterator[None]:
    """The objects alive before an import (modules, the ORM's metadata: most of the heap) left out of the garbage
    collector's passes while it runs. An import keeps making objects that live a batch long, which trigger full
    passes, and each walked the whole heap: 13% of a 50,000-row import's time. Garbage is still collected."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _names_another_debtor(record: CaseRecord, debtor_ref: str, national_id: str | None) -> tuple[str, str] | None:
    """(field, value) by which `record` names a debtor other than its account's debtor on file, if it does.

    A national ID fills an empty one on file; a customer reference must be the one the debtor is filed
    under (a debtor filed without one is not assumed to be the one named now)."""
    if "customer_ref" in record.given and record.debtor_ref != debtor_ref:
        return "customer_ref", record.debtor_ref
    if "national_id" in record.given and national_id and record.national_id != national_id:
        return "national_id", record.national_id or ""
    return None


def _carried(record: CaseRecord, old: Any, names: Iterable[str]) -> dict[str, Any]:
    """Values for an update: the record's where its row carries the field, else those on file."""
    return {name: getattr(record, name) if name in record.given else getattr(old, name) for name in names}


def _plain(value: Any) -> Any:
    """Comparable, JSON-friendly form of a column value (enums by value, decimals and dates as text)."""
    if value is None:
        return None
    if hasattr(value, "value"):
        return value.value
    if isinstance(value, (bool, int, str)):
        return value
    return str(value)
