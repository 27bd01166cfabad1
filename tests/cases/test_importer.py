from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cases import Store
from cases.audit import verify_chain
from cases.demo_data import generate_cases, write_csv, write_xlsx
from cases.importer import CaseImporter, ColumnMapping, MappingError
from cases.models import Account, AuditEntry, Debtor, ImportRun, Phone, PhoneOwner

DATA = Path(__file__).parent / "data"
TODAY = date(2026, 11, 28)
HEADER = "account_ref,creditor,full_name,national_id,birth_date,product,balance,overdue_amount,due_date,mobile\n"
GOOD = [
    "A-1,Acme,王伟,110101199003074514,1990-03-07,credit_card,1000.00,200,2026-10-01,13812345678",
    "A-2,Acme,李娜,,1985-01-02,consumer_loan,5000,5000,2026-09-01,+8615012345678",
    "A-3,Acme,John Smith,,1970-05-06,credit_card,300.5,0,,+12125550123",
]


def importer(store: Store) -> CaseImporter:
    return CaseImporter(store, actor="tester", default_region="CN", today=TODAY, batch_size=2)


def counts(store: Store) -> tuple[int, int, int, int]:
    with store.session() as session:
        return tuple(session.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[return-value]
                     for t in (Account, Debtor, Phone, ImportRun))


def write(tmp_path: Path, lines: list[str], name: str = "cases.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_valid_file_imports_every_case(store: Store, tmp_path: Path) -> None:
    report = importer(store).run(write(tmp_path, GOOD))
    assert report.committed and (report.rows, report.inserted, report.invalid_rows) == (3, 3, 0)
    with store.session() as session:
        account = session.execute(select(Account).where(Account.account_ref == "A-1")).scalar_one()
        assert account.balance == Decimal("1000.00") and account.overdue_amount == Decimal("200.00")
        assert account.days_past_due(TODAY) == 58 and account.jurisdiction == "CN"
        assert account.debtor.phones[0].e164 == "+8613812345678"
        assert account.debtor.language.value == "zh"
        us = session.execute(select(Account).where(Account.account_ref == "A-3")).scalar_one()
        assert us.debtor.language.value == "en" and us.overdue_amount == 0
        assert verify_chain(session).intact
        assert session.execute(select(AuditEntry.action)).scalars().all() == ["cases.imported"]


def test_a_malformed_row_is_reported_precisely_and_nothing_is_written(store: Store, tmp_path: Path) -> None:
    bad = "A-4,Acme,Bad Row,110101199003074515,1990-13-40,credit_card,12x,0,2026-10-01,12345"
    report = importer(store).run(write(tmp_path, [*GOOD, bad]))
    assert not report.committed and report.invalid_rows == 1
    by_column = {e.column: e for e in report.errors}
    assert set(by_column) == {"national_id", "birth_date", "balance", "mobile"}
    assert all(e.row == 5 for e in report.errors)  # header is row 1
    assert by_column["balance"].value == "12x" and by_column["balance"].reason == "not an amount"
    assert "check digit" in by_column["national_id"].reason
    assert counts(store) == (0, 0, 0, 0)


def test_dates_of_birth_and_due_dates_are_checked_against_the_import_day_even_on_29_february(
        store: Store, tmp_path: Path) -> None:
    """Ages 16-120 and due dates at most 50 years ahead, counted from the day of the import; from 29 February the
    same day in a year without one is the 28th (it once failed every row with a due date, uncaught)."""
    rows = ["A-1,Acme,On The Day,,2012-02-29,credit_card,10,0,2078-02-28,13812345678",
            "A-2,Acme,Too Young,,2012-03-01,credit_card,10,0,2078-03-01,13812345679",
            "A-3,Acme,Too Old,,1908-02-28,credit_card,10,0,,13812345670"]
    leap_day = CaseImporter(store, actor="tester", default_region="CN", today=date(2028, 2, 29))
    report = leap_day.run(write(tmp_path, rows), dry_run=True)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (3, "birth_date", "implausible date of birth (age must be 16-120)"),
        (3, "due_date", "due date too far in the future"),
        (4, "birth_date", "implausible date of birth (age must be 16-120)"),
    ]


@pytest.mark.parametrize("national_id", ["1101011990030745²X", "110101199003074٥15", "１１０１０１１９９００３０７４５１５"])
def test_a_national_id_with_digits_of_other_scripts_is_a_row_error(store: Store, tmp_path: Path,
                                                                   national_id: str) -> None:
    bad = f"A-4,Acme,Bad Row,{national_id},1990-01-01,credit_card,12,0,2026-10-01,13812345679"
    report = importer(store).run(write(tmp_path, [*GOOD, bad]))
    assert not report.committed and [(e.row, e.column) for e in report.errors] == [(5, "national_id")]
    assert "check digit" in report.errors[0].reason


def test_skip_invalid_imports_exactly_the_valid_rows(store: Store, tmp_path: Path) -> None:
    bad = "A-4,Acme,,,,credit_card,10,0,,"
    report = importer(store).run(write(tmp_path, [GOOD[0], bad, *GOOD[1:]]), skip_invalid=True)
    assert report.committed and report.inserted == 3 and report.invalid_rows == 1
    assert report.errors[0].column == "full_name" and report.errors[0].reason == "required"
    with store.session() as session:
        refs = set(session.execute(select(Account.account_ref)).scalars())
    assert refs == {"A-1", "A-2", "A-3"}


def test_reimport_is_idempotent_and_updates_are_audited(store: Store, tmp_path: Path) -> None:
    importer(store).run(write(tmp_path, GOOD))
    again = importer(store).run(write(tmp_path, GOOD))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    changed = [GOOD[0].replace("1000.00,200", "900.00,100"), *GOOD[1:]]
    third = importer(store).run(write(tmp_path, changed))
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 2)
    assert counts(store)[:3] == (3, 3, 3)
    with store.session() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "account.updated_by_import")).scalar_one()
        assert entry.details["changes"]["balance"] == ["1000.00", "900.00"]
        assert verify_chain(session).intact


def test_reimport_never_overrides_a_numbers_compliance_state(store: Store, tmp_path: Path) -> None:
    importer(store).run(write(tmp_path, GOOD))
    with store.session() as session:
        phone = session.execute(select(Phone).where(Phone.e164 == "+8613812345678")).scalar_one()
        phone.dnc = True
    importer(store).run(write(tmp_path, GOOD))
    with store.session() as session:
        assert session.execute(select(Phone.dnc).where(Phone.e164 == "+8613812345678")).scalar_one() is True


def test_duplicate_account_in_one_file_is_an_error(store: Store, tmp_path: Path) -> None:
    report = importer(store).run(write(tmp_path, [*GOOD, GOOD[0]]))
    assert report.invalid_rows == 1 and "first at row 2" in report.errors[0].reason
    assert counts(store)[0] == 0


def test_dry_run_counts_but_writes_nothing(store: Store, tmp_path: Path) -> None:
    report = importer(store).run(write(tmp_path, GOOD), dry_run=True)
    assert report.inserted == 3 and not report.committed
    assert counts(store) == (0, 0, 0, 0)


def test_mapping_file_and_chinese_headers(store: Store) -> None:
    report = importer(store).run(DATA / "zh_headers.csv", ColumnMapping.load(DATA / "zh_mapping.toml"))
    assert report.committed and report.inserted == 2, report.errors
    with store.session() as session:
        account = session.execute(select(Account).where(Account.account_ref == "HT-001")).scalar_one()
        assert account.product.value == "credit_card" and account.balance == Decimal("12345.60")
        assert account.due_date == date(2026, 8, 1)
        owners = {p.owner for p in account.debtor.phones}
        assert owners == {PhoneOwner.DEBTOR, PhoneOwner.REFERENCE}


def test_mapping_naming_a_missing_header_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\naccount_ref = "Loan No"\n')
    with pytest.raises(MappingError, match="Loan No"):
        ColumnMapping.load(mapping).resolve(["account_ref", "creditor"])
    mapping.write_text('[columns]\nnot_a_field = "x"\n')
    with pytest.raises(MappingError, match="not_a_field"):
        ColumnMapping.load(mapping)


def test_missing_required_column_names_it(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("account_ref,creditor,full_name\nA,B,C\n")
    with pytest.raises(MappingError, match="product"):
        importer(store).run(path)


def test_generated_cases_import_from_xlsx_and_csv(store: Store, tmp_path: Path) -> None:
    xlsx, csv_path = tmp_path / "c.xlsx", tmp_path / "c.csv"
    write_xlsx(xlsx, generate_cases(150, seed=1, today=TODAY))
    write_csv(csv_path, generate_cases(150, seed=2, today=TODAY, start=1000))
    first = importer(store).run(xlsx)
    second = importer(store).run(csv_path)
    assert (first.inserted, first.invalid_rows, second.inserted, second.invalid_rows) == (150, 0, 150, 0), \
        first.errors[:3] + second.errors[:3]
    with store.session() as session:
        jurisdictions = set(session.execute(select(Account.jurisdiction)).scalars())
    assert {"CN", "US"} <= jurisdictions
