"""Issue 14, "Data integrity": partial re-imports and file encodings, against a real store and the real CLI."""

import codecs
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cases import Store
from cases.demo_data import generate_cases, write_csv
from cases.models import Account, Address, Debtor, HoldKind, Phone
from compliance import CampaignFacts, ComplianceGate, place_hold
from dunline.cli.main import app
from tests.cases.test_importer import TODAY, counts, importer
from tests.compliance.factories import utc

NOW = utc(2026, 11, 28, 6)  # 14:00 in Beijing, inside the CN calling window
FULL_HEADER = ("account_ref,creditor,customer_ref,full_name,national_id,birth_date,email,address,city,region,country,"
               "product,balance,principal,overdue_amount,due_date,jurisdiction,time_barred,mobile,mobile_consent\n")
FULL_ROW = ("A-1,Acme,C-1,王伟,110101199003074514,1990-03-07,wang@example.com,人民路1号,广州,广东,CN,"
            "credit_card,1000.00,1200.00,200.00,2026-10-01,CN,yes,13812345678,yes\n")
PARTIAL_HEADER = "account_ref,creditor,full_name,product,balance\n"  # the required columns only


def write(tmp_path: Path, text: str, name: str = "cases.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def the_case(store: Store) -> tuple[int, int, int]:
    """(account id, debtor id, mobile phone id) of account A-1."""
    with store.session() as session:
        account = session.execute(select(Account).where(Account.account_ref == "A-1")).scalar_one()
        return account.id, account.debtor_id, account.debtor.phones[0].id


# Item 1: a partial re-import must not lift a cease hold or detach an account from its debtor.

def test_probe_14_1_partial_reimport_keeps_the_debtor_cease_hold_in_force(store: Store, tmp_path: Path) -> None:
    assert importer(store).run(write(tmp_path, FULL_HEADER + FULL_ROW)).committed
    account_id, debtor_id, mobile_id = the_case(store)
    with store.session() as session:
        place_hold(session, kind=HoldKind.CEASE, actor="t", source="ivr", debtor_id=debtor_id,
                   starts_at=NOW - timedelta(days=1))
    gate = ComplianceGate(store)
    before = gate.check(account_id, mobile_id, NOW, CampaignFacts(campaign_id=1))
    assert not before.allowed and "cease (debtor)" in before.reasons[0]

    report = importer(store).run(write(tmp_path, PARTIAL_HEADER + "A-1,Acme,王伟,credit_card,900.00\n"))
    assert report.committed and (report.updated, report.invalid_rows) == (1, 0), report.errors

    after = gate.check(account_id, mobile_id, NOW, CampaignFacts(campaign_id=1))
    assert not after.allowed and after.reasons == before.reasons
    assert the_case(store) == (account_id, debtor_id, mobile_id)
    assert counts(store)[:3] == (1, 1, 1)  # no new, empty debtor; no orphan


def test_probe_14_1_partial_reimport_updates_only_the_fields_it_carries(store: Store, tmp_path: Path) -> None:
    importer(store).run(write(tmp_path, FULL_HEADER + FULL_ROW))
    # Same full header, identity and other cells blank: blank never wipes what is on file.
    blanks = FULL_HEADER + "A-1,Acme,,王伟,,,,,,,,credit_card,900.00,,,,,,,\n"
    for text in (PARTIAL_HEADER + "A-1,Acme,王伟,credit_card,900.00\n", blanks):
        report = importer(store).run(write(tmp_path, text))
        assert report.committed and report.invalid_rows == 0, report.errors
        with store.session() as session:
            account = session.execute(select(Account).where(Account.account_ref == "A-1")).scalar_one()
            assert account.balance == Decimal("900.00")
            assert (account.principal, account.overdue_amount) == (Decimal("1200.00"), Decimal("200.00"))
            assert (account.due_date, account.jurisdiction, account.time_barred) == (date(2026, 10, 1), "CN", True)
            debtor = account.debtor
            assert (debtor.external_ref, debtor.national_id, debtor.birth_date, debtor.email) == (
                "C-1", "110101199003074514", date(1990, 3, 7), "wang@example.com")
            assert [p.e164 for p in debtor.phones] == ["+8613812345678"]
            home = session.execute(select(Address).where(Address.debtor_id == debtor.id)).scalar_one()
            assert (home.line1, home.city, home.region, home.timezone) == ("人民路1号", "广州", "广东", "Asia/Shanghai")


def test_probe_14_1_a_row_naming_another_debtor_is_an_error(store: Store, tmp_path: Path) -> None:
    importer(store).run(write(tmp_path, FULL_HEADER + FULL_ROW))
    _, debtor_id, _ = the_case(store)
    header = "account_ref,creditor,客户号,full_name,national_id,product,balance\n"
    cases = [("A-1,Acme,C-2,王伟,,credit_card,900\n", "客户号", "C-2"),
             ("A-1,Acme,,王伟,110101198501021234,credit_card,900\n", "national_id", "110101198501021234")]
    for row, column, value in cases:
        report = importer(store).run(write(tmp_path, header + row))
        assert not report.committed and report.invalid_rows == 1
        (error,) = report.errors
        assert (error.row, error.column, error.value) == (2, column, value)
        assert "another debtor" in error.reason
        assert the_case(store)[1] == debtor_id and counts(store)[:2] == (1, 1)
        with store.session() as session:
            assert session.execute(select(Account.balance)).scalar_one() == Decimal("1000.00")


# Item 2: the encoding is decided on the whole file; a wrong byte is named, never silently mis-read.

def straddling_file(tmp_path: Path, bad: bytes = b"") -> Path:
    """A UTF-8 file whose 杜英 starts two bytes before byte 65,536, then a row with `bad` spliced into its name."""
    body = PARTIAL_HEADER.encode()
    names_at = 65534 - len(b"S-1,Acme,")
    filler = "F-{:05d},Acme,John Smith,credit_card,10\n"
    body += "".join(filler.format(n) for n in range((names_at - len(body) - 150) // len(filler.format(0)))).encode()
    body += f"P-1,Acme,{'x' * (names_at - len(body) - len('P-1,Acme,,credit_card,10') - 1)},credit_card,10\n".encode()
    body += "S-1,Acme,杜英,credit_card,10\n".encode()
    assert body[65534:65537].decode("utf-8") == "杜"
    path = tmp_path / "straddle.csv"
    path.write_bytes(body + b"T-1,Acme,Tom" + bad + "北京,credit_card,10\n".encode())
    return path


def test_probe_14_2_utf8_character_straddling_byte_65536_imports_correctly(store: Store, tmp_path: Path) -> None:
    report = importer(store).run(straddling_file(tmp_path))
    assert report.committed and report.invalid_rows == 0, report.errors[:3]
    with store.session() as session:
        names = dict(session.execute(select(Account.account_ref, Debtor.full_name).join(Debtor)
                                     .where(Account.account_ref.in_(["S-1", "T-1"]))).all())
    assert names == {"S-1": "杜英", "T-1": "Tom北京"}


def test_probe_14_2_gb18030_is_still_recognised_and_named(store: Store, tmp_path: Path) -> None:
    path = straddling_file(tmp_path)
    path.write_bytes(path.read_bytes().decode("utf-8").encode("gb18030"))
    report = importer(store).run(path)
    assert report.committed and report.encoding == "GB18030" and report.invalid_rows == 0, report.errors[:3]
    with store.session() as session:
        assert session.execute(select(Debtor.full_name).join(Account).where(Account.account_ref == "S-1")
                               ).scalar_one() == "杜英"


def test_probe_14_2_demo_data_seed_2_imports(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "seed2.csv"
    write_csv(path, generate_cases(1000, seed=2, today=TODAY))
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw[:65536].decode("utf-8")  # the file does straddle the old 64 KiB sample
    report = importer(store).run(path)
    assert (report.inserted, report.invalid_rows) == (1000, 0), report.errors[:3]
    expected = {row["account_ref"]: row["full_name"] for row in generate_cases(1000, seed=2, today=TODAY)}
    with store.session() as session:
        assert dict(session.execute(select(Account.account_ref, Debtor.full_name).join(Debtor)).all()) == expected


def test_probe_14_2_utf16_with_bom_imports(store: Store, tmp_path: Path) -> None:
    text = PARTIAL_HEADER.replace(",", "\t") + "U-1\tAcme\t杜英\tcredit_card\t10\n"
    for encoding in ("utf-16", "utf-16-be"):  # Excel's "Unicode text" is UTF-16 LE with a BOM and tabs
        path = write(tmp_path, text, f"{encoding}.txt", encoding)
        if encoding == "utf-16-be":
            path.write_bytes(codecs.BOM_UTF16_BE + path.read_bytes())
        report = importer(store).run(path)
        assert report.committed and report.invalid_rows == 0, report.errors
    with store.session() as session:
        assert session.execute(select(Debtor.full_name)).scalar_one() == "杜英"


def test_probe_14_2_bad_byte_after_64k_is_a_row_error_naming_encoding_and_offset(store: Store, tmp_path: Path) -> None:
    path = straddling_file(tmp_path, bad=b"\xff")
    raw = path.read_bytes()
    offset = raw.index(b"\xff")
    assert offset > 65536
    report = importer(store).run(path)
    assert not report.committed and report.invalid_rows == 1
    (error,) = report.errors
    assert (error.row, error.column) == (raw.count(b"\n"), "full_name")  # the last line
    assert "UTF-8" in error.reason and f"{offset:,}" in error.reason and "0xff" in error.reason
    assert counts(store) == (0, 0, 0, 0)


def test_probe_14_2_timezone_that_is_a_directory_is_a_row_error(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, PARTIAL_HEADER.strip() + ",timezone\n" + "A-1,Acme,John Smith,credit_card,10,US\n")
    report = importer(store).run(path)
    assert not report.committed
    (error,) = report.errors
    assert (error.row, error.column, error.value, error.reason) == (2, "timezone", "US", "unknown IANA time zone")


def test_probe_14_2_cli_names_the_bad_encoding_instead_of_a_traceback(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DUNLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("DUNLINE_USER", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    bad = straddling_file(tmp_path, bad=b"\xff")
    result = runner.invoke(app, ["import", "cases", str(bad)])
    out = " ".join(result.output.split())  # rich wraps long lines
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # not a traceback
    assert str(bad.read_bytes().count(b"\n")) in out and "UTF-8" in out and "nothing imported" in out
    no_bom = write(tmp_path, PARTIAL_HEADER + "A-1,Acme,Wang,credit_card,10\n", "no_bom.csv", "utf-16-le")
    result = runner.invoke(app, ["import", "cases", str(no_bom)])
    out = " ".join(result.output.split())
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "UTF-16" in out and "byte-order mark" in out
