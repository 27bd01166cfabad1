"""Issue 14 item 2 follow-up: a cell longer than the column it is stored in is a row error on every backend.

PostgreSQL refuses an over-long VARCHAR with a DataError (SQLite stores it silently), so the importer checks
each text value against its column's length before writing; the limits below are read from the models, as
the importer reads them, and each is tried at the limit (stored whole) and one character past it (refused).
"""

from pathlib import Path

import pytest
from sqlalchemy import Column, select
from typer.testing import CliRunner

from cases import Store
from cases.models import Account, Address, Debtor, Phone
from dunline.cli.main import app
from tests.cases.test_importer import counts, importer
from tests.conftest import share_keys

ACCOUNTS, DEBTORS, ADDRESSES, PHONES = (Account.__table__, Debtor.__table__, Address.__table__, Phone.__table__)
# Every text cell the importer stores as it reads it (trimmed, maybe upper-cased), and the column it goes to.
# Country, currency and timezone have formats of their own; phone numbers are stored as E.164.
STORED: dict[str, Column] = {
    "account_ref": ACCOUNTS.c.account_ref, "creditor": ACCOUNTS.c.creditor, "jurisdiction": ACCOUNTS.c.jurisdiction,
    "customer_ref": DEBTORS.c.external_ref, "full_name": DEBTORS.c.full_name, "national_id": DEBTORS.c.national_id,
    "email": DEBTORS.c.email, "address": ADDRESSES.c.line1, "city": ADDRESSES.c.city, "region": ADDRESSES.c.region,
    "postal_code": ADDRESSES.c.postal_code, "guarantor_name": PHONES.c.owner_name,
    "reference_name": PHONES.c.owner_name, "reference_relation": PHONES.c.relation,
}
NEEDS = {"guarantor_name": {"guarantor_phone": "+12125550123"},  # a name is stored with its number
         "reference_name": {"reference_phone": "+12125550123"},
         "reference_relation": {"reference_phone": "+12125550123"}}


def cell(name: str, length: int, fill: str) -> str:
    return fill * (length - 12) + "@example.com" if name == "email" else fill * length


def csv_file(tmp_path: Path, rows: list[dict[str, str]], name: str = "cases.csv") -> Path:
    """Rows over the required columns, in Singapore (no ID check digit); `rows` add or override cells."""
    base = {"creditor": "Acme", "full_name": "Tan Wei", "product": "credit_card", "balance": "10", "country": "SG"}
    lines = [{"account_ref": f"A-{n}", **base, **extra} for n, extra in enumerate(rows, start=1)]
    header = list(lines[0])
    path = tmp_path / name
    path.write_text(",".join(header) + "\n" + "".join(",".join(line[h] for h in header) + "\n" for line in lines),
                    encoding="utf-8")
    return path


def test_probe_14_2_overlong_cell_is_a_row_error(store: Store, tmp_path: Path) -> None:
    limit = DEBTORS.c.full_name.type.length
    long_name = "王" * (limit + 1)
    path = tmp_path / "long.csv"
    path.write_text("account_ref,creditor,姓名,product,balance\n"  # the column as headed in the file: 姓名
                    f"A-1,Acme,{'李' * limit},credit_card,10\nA-2,Acme,{long_name},credit_card,10\n", encoding="utf-8")

    report = importer(store).run(path)
    assert not report.committed and report.invalid_rows == 1
    (error,) = report.errors
    assert (error.row, error.column, error.reason) == (3, "姓名", f"longer than {limit} characters")
    assert error.value.endswith("…") and len(error.value) < 50 and long_name.startswith(error.value[:-1])
    assert counts(store) == (0, 0, 0, 0)

    report = importer(store).run(path, skip_invalid=True)
    assert report.committed and (report.inserted, report.invalid_rows) == (1, 1)
    with store.session() as session:
        assert session.execute(select(Debtor.full_name)).scalars().all() == ["李" * limit]


@pytest.mark.parametrize("name", list(STORED))
def test_probe_14_2_every_stored_text_cell_is_checked_against_its_column(store: Store, tmp_path: Path,
                                                                          name: str) -> None:
    column = STORED[name]
    limit = column.type.length
    fits, too_long = cell(name, limit, "7"), cell(name, limit + 1, "8")
    path = csv_file(tmp_path, [{name: fits, **NEEDS.get(name, {})}, {name: too_long, **NEEDS.get(name, {})}])

    report = importer(store).run(path)
    assert not report.committed and report.invalid_rows == 1
    (error,) = report.errors
    assert (error.row, error.column, error.reason) == (3, name, f"longer than {limit} characters")
    assert counts(store) == (0, 0, 0, 0)

    report = importer(store).run(path, skip_invalid=True)
    assert report.committed and (report.inserted, report.invalid_rows) == (1, 1), report.errors
    with store.session() as session:
        assert session.execute(select(column)).scalars().all() == [fits]


def test_probe_14_2_long_creditor_and_account_without_customer_ref_still_fit_a_debtor_reference(
        store: Store, tmp_path: Path) -> None:
    """The debtor reference made up from creditor and account must fit its column when both cells do."""
    creditor, account_ref = "C" * ACCOUNTS.c.creditor.type.length, "R" * ACCOUNTS.c.account_ref.type.length
    path = csv_file(tmp_path, [{"creditor": creditor, "account_ref": account_ref},
                               {"creditor": creditor, "account_ref": account_ref[:-1] + "S"}])
    for _ in range(2):  # and a re-import finds the same debtors
        report = importer(store).run(path)
        assert report.committed and report.invalid_rows == 0, report.errors
    assert counts(store)[:2] == (2, 2)
    with store.session() as session:
        refs = session.execute(select(Debtor.external_ref)).scalars().all()
    assert len(set(refs)) == 2 and all(len(ref) <= DEBTORS.c.external_ref.type.length for ref in refs)


def test_probe_14_2_overlong_phone_cell_is_a_row_error_shown_short(store: Store, tmp_path: Path) -> None:
    assert PHONES.c.e164.type.length >= len("+") + 15  # E.164: at most 15 digits, all any valid number gets
    path = csv_file(tmp_path, [{"mobile": "9" * 300}])
    report = importer(store).run(path)
    assert not report.committed
    (error,) = report.errors
    assert (error.row, error.column) == (2, "mobile") and len(error.value) < 50
    assert counts(store) == (0, 0, 0, 0)


def test_probe_14_2_cli_prints_the_overlong_cell_row_error_not_a_traceback(store: Store, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DUNLINE_DATABASE_URL", store.engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("DUNLINE_USER", raising=False)
    share_keys(store, tmp_path / "var")
    limit = DEBTORS.c.email.type.length
    path = csv_file(tmp_path, [{"email": "wei@example.com"}, {"email": cell("email", limit + 1, "w")}])
    result = CliRunner().invoke(app, ["import", "cases", str(path)])
    out = " ".join(result.output.split())  # rich wraps long lines
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output  # not a traceback
    assert f"longer than {limit} characters" in out and "email" in out and "nothing imported" in out
    assert "Traceback" not in out and counts(store) == (0, 0, 0, 0)
