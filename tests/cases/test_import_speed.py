"""Issue 21, import speed: the fast paths give exactly what the general ones gave, and do less work.

Speed itself is measured by bench/import_cases.py; these tests pin the behaviour and the work done
(calls, statements, sizes), never milliseconds.
"""

import random
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumberFormat, PhoneNumberType
from phonenumbers import phonenumberutil

from sqlalchemy import event, insert, select

from cases import Store
from cases.demo_data import generate_cases, write_csv
from cases.importer.load import ACCOUNTS, DEBTORS, NEW_ACCOUNT, NEW_DEBTOR
from cases.importer.writer import TableWriter
from cases.models import AccountStatus, Language, Product, utcnow
from cases.phones import InvalidPhoneNumber, to_e164
from tests.cases.test_importer import TODAY, counts, importer
from tests.conftest import _truncate_all


def full_parser(text: str) -> str | None:
    """What phonenumbers' general path makes of an E.164 cell: the number, or None when invalid."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164) if phonenumbers.is_valid_number(number) else None


def ours(text: str) -> str | None:
    try:
        return to_e164(text, "CN")
    except InvalidPhoneNumber:
        return None


def e164_samples(rng: random.Random) -> list[str]:
    """Every region's example numbers of every type, and near misses of each: one digit changed, one more, one less."""
    samples = []
    for code, regions in COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
                         PhoneNumberType.VOIP, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.UAN):
                example = (phonenumbers.example_number_for_non_geo_entity(code) if region == "001"
                           else phonenumbers.example_number_for_type(region, kind))
                if example is None:
                    continue
                text = phonenumbers.format_number(example, PhoneNumberFormat.E164)
                cut = rng.randrange(len(str(code)) + 2, len(text))
                samples += [text, text + str(rng.randrange(10)), text[:-1],
                            text[:cut] + str(rng.randrange(10)) + text[cut + 1:]]
    return samples


def test_e164_validation_agrees_with_phonenumbers_in_every_region() -> None:
    samples = e164_samples(random.Random(21))
    disagree = [text for text in samples if ours(text) != full_parser(text)]
    assert not disagree, disagree[:10]
    assert len(samples) > 3000 and sum(full_parser(text) is not None for text in samples) > 1500


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    calls = [0]
    real: Callable[..., Any] = getattr(owner, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def test_e164_cells_are_validated_by_compiled_region_plans_not_a_full_check_per_cell(
        monkeypatch: pytest.MonkeyPatch) -> None:
    numbers = ["+8613812345678", "+12125550123", "+19075551234", "+442079460123", "+447911123456", "+6581234567"]
    assert [ours(n) for n in numbers] == numbers  # the plans of these calling codes are compiled now
    typed = counting(monkeypatch, phonenumberutil, "_number_type_helper")
    parsed = counting(monkeypatch, phonenumbers, "parse")
    for _ in range(100):
        assert [ours(n) for n in numbers] == numbers
    assert (typed[0], parsed[0]) == (0, 0)


# Writes: new rows go through the driver's bulk path (COPY on PostgreSQL) and store exactly what INSERT stored.

TRICKY_TEXT = ["王伟", "tab\there", "new\nline", "back\\slash", "\\N", "", "comma, \"quoted\""]


def debtor_rows(prefix: str) -> list[tuple[Any, ...]]:
    """Rows in NEW_DEBTOR order, with every value COPY's text format must escape."""
    now = datetime(2026, 11, 28, 6, 30, 15, 123456, tzinfo=timezone.utc)
    return [(f"{prefix}{n}", now, now, name, None if n % 2 else f"ID{n}", date(1990, 1, n + 1) if n % 3 else None,
             Language.ZH if n % 2 else Language.EN, None if n % 4 else f"{name}@example.com")
            for n, name in enumerate(TRICKY_TEXT)]


def test_bulk_writer_stores_exactly_what_a_plain_insert_stores(store: Store) -> None:
    with store.session() as session:
        conn = session.connection()
        TableWriter(conn, DEBTORS, NEW_DEBTOR).write(conn, debtor_rows("w-"))
        conn.execute(insert(DEBTORS), [dict(zip(NEW_DEBTOR, row)) for row in debtor_rows("p-")])
        ids = dict(conn.execute(select(DEBTORS.c.external_ref, DEBTORS.c.id)).all())
        accounts = [(Product.CREDIT_CARD, "CNY", Decimal("1200.50"), Decimal("999999999999.99"), Decimal("0.00"),
                     date(2026, 10, 1) if n % 2 else None, None if n % 2 else Decimal("5000.00"), "CN", bool(n % 2),
                     False, "Acme", f"A-{n}", n, None, AccountStatus.OPEN, utcnow(), utcnow())
                    for n in range(len(TRICKY_TEXT))]
        TableWriter(conn, ACCOUNTS, NEW_ACCOUNT).write(
            conn, [(*row[:11], f"w-{row[11]}", ids[f"w-{row[12]}"], *row[13:]) for row in accounts])
        conn.execute(insert(ACCOUNTS), [dict(zip(NEW_ACCOUNT, (*row[:11], f"p-{row[11]}", ids[f"p-{row[12]}"],
                                                              *row[13:]))) for row in accounts])

    def stored(table: Any, ref: Any, prefix: str) -> list[tuple[Any, ...]]:
        with store.session() as session:
            columns = [c for c in table.c if c.name not in ("id", "debtor_id", ref.name)]
            rows = session.execute(select(ref, *columns).where(ref.like(f"{prefix}%")).order_by(table.c.id)).all()
            return [(r[0][len(prefix):], *r[1:]) for r in rows]

    written = stored(DEBTORS, DEBTORS.c.external_ref, "w-")
    assert written == stored(DEBTORS, DEBTORS.c.external_ref, "p-") and len(written) == len(TRICKY_TEXT)
    with store.session() as session:  # every escape intact
        assert session.execute(select(DEBTORS.c.full_name).where(DEBTORS.c.external_ref.like("w-%"))
                               .order_by(DEBTORS.c.id)).scalars().all() == TRICKY_TEXT
    assert stored(ACCOUNTS, ACCOUNTS.c.account_ref, "w-") == stored(ACCOUNTS, ACCOUNTS.c.account_ref, "p-")


@pytest.mark.postgres
def test_postgresql_import_copies_new_rows_instead_of_inserting_them(pg_store: Store, tmp_path: Path) -> None:
    _truncate_all(pg_store)
    path = tmp_path / "cases.csv"
    write_csv(path, generate_cases(300, seed=4, today=TODAY))
    inserts: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO") and "audit" not in statement and "imports" not in statement:
            inserts.append(statement)

    event.listen(pg_store.engine, "before_cursor_execute", seen)
    try:
        report = importer(pg_store).run(path)
    finally:
        event.remove(pg_store.engine, "before_cursor_execute", seen)
    assert report.committed and report.inserted == 300, report.errors[:3]
    assert inserts == []
    assert counts(pg_store)[:2] == (300, 300)


def test_matching_a_batch_to_accounts_on_file_uses_the_account_key_index(sqlite_store: Store, tmp_path: Path) -> None:
    """Each batch looks its accounts up by key: a scan of every account made an import quadratic in its size."""
    path = tmp_path / "cases.csv"
    write_csv(path, generate_cases(6, seed=4, today=TODAY))
    lookups: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.startswith("SELECT") and "FROM accounts" in statement:
            lookups.append((statement, parameters))

    event.listen(sqlite_store.engine, "before_cursor_execute", seen)
    try:
        assert importer(sqlite_store).run(path).inserted == 6
    finally:
        event.remove(sqlite_store.engine, "before_cursor_execute", seen)
    assert len(lookups) == 4  # one per batch of two, and the highest id (cases.importer.deferred)
    with sqlite_store.engine.connect() as conn:
        for statement, parameters in lookups:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            assert not any(step.startswith("SCAN accounts") for step in plan), plan
