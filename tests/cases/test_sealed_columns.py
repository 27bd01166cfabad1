"""Personal columns sealed at rest (issue 17): the database file and a dump hold no national ID, phone number,
e-mail, address or date of birth in clear; a phone lookup is still one indexed query; a wrong or missing key
serves nothing; a master-key rotation keeps every value readable; a database written before the sealing is
sealed by its upgrade."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from cases import Store, migrate
from cases.importer.load import CaseImporter
from cases.models import Account, Address, Attempt, Debtor, Hold, HoldKind, Phone, Product
from cases.models.sealed import SealedDate, SealedString, cipher_of
from crypto import (KEY_FILE, ColumnCipher, CryptoError, KeyMissing, Keyring, MasterKey, MasterKeys, NoMasterKey,
                    WrongKey)
from crypto.keys import write_key_file

NATIONAL_ID = "110101199003074514"
MOBILE = "+8613812345678"
EMAIL = "zhang.wei@example.cn"
STREET = "朝阳区建国路88号"
BIRTH = date(1990, 3, 7)
CLEAR = [NATIONAL_ID, MOBILE, MOBILE.lstrip("+"), EMAIL, STREET, "1990-03-07", "100022"]


def _fill(store: Store) -> int:
    with store.session() as session:
        debtor = Debtor(external_ref="C-1", full_name="张伟", national_id=NATIONAL_ID, birth_date=BIRTH, email=EMAIL)
        debtor.addresses.append(Address(line1=STREET, postal_code="100022", city="北京", country="CN"))
        debtor.phones.append(Phone(e164=MOBILE))
        account = Account(account_ref="A-1", debtor=debtor, product=Product.CREDIT_CARD, creditor="Bank",
                          currency="CNY", principal=1000, balance=1000, overdue_amount=100, jurisdiction="CN")
        session.add(account)
        session.flush()
        session.add(Attempt(account_id=account.id, number_e164=MOBILE, started_at=datetime(2026, 11, 2, tzinfo=timezone.utc)))
        session.add(Hold(kind=HoldKind.DNC, e164=MOBILE, source="test", created_by="test"))
        return debtor.id


def _readable(store: Store) -> None:
    with store.reading() as session:
        phone = session.execute(select(Phone).where(Phone.e164 == MOBILE)).scalar_one()
        debtor = session.get(Debtor, phone.debtor_id)
        assert (debtor.national_id, debtor.birth_date, debtor.email) == (NATIONAL_ID, BIRTH, EMAIL)
        assert debtor.addresses[0].line1 == STREET
        assert session.scalar(select(Attempt.number_e164).where(Attempt.number_e164 == MOBILE)) == MOBILE
        assert session.scalar(select(Hold.id).where(Hold.e164 == MOBILE)) is not None


def test_the_file_and_a_dump_hold_no_personal_data_in_clear(sqlite_store: Store) -> None:
    _fill(sqlite_store)
    _readable(sqlite_store)
    sqlite_store.dispose()  # the WAL checkpointed into the file
    path = Path(sqlite_store.engine.url.database or "")
    dump = subprocess.run(["sqlite3", str(path), ".dump"], capture_output=True, text=True, check=True).stdout
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert "张伟" in dump  # the dump is real: the name is not among the sealed columns
    for value in CLEAR:
        assert value not in dump and value.encode() not in raw, value


def test_a_debtor_filed_under_a_national_id_is_filed_under_its_token(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("account_ref,creditor,full_name,national_id,product,balance,mobile\n"
                    f"A-1,Acme,王伟,{NATIONAL_ID},credit_card,1000,13812345678\n", encoding="utf-8")
    importer = CaseImporter(sqlite_store, actor="tester", default_region="CN", today=date(2026, 11, 28))
    assert importer.run(path).committed
    assert importer.run(path).committed  # the same debtor found again by its token
    with sqlite_store.reading() as session:
        refs = session.scalars(select(Debtor.external_ref)).all()
        cipher = cipher_of(session.connection().dialect)
        stored = session.execute(text("SELECT national_id FROM debtors")).scalar_one()
    # The token the migration that sealed the columns filed such debtors under (0020), from the same AES-SIV
    # pass as the sealed column.
    assert refs == [f"nid:{cipher.token(NATIONAL_ID)}"] and NATIONAL_ID not in refs[0]
    assert stored == cipher.seal(NATIONAL_ID) and cipher.open(stored) == NATIONAL_ID


def test_a_debtor_with_a_customer_reference_keeps_its_national_id_sealed(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("account_ref,creditor,customer_ref,full_name,national_id,product,balance\n"
                    f"A-1,Acme,C-9,王伟,{NATIONAL_ID},credit_card,1000\n", encoding="utf-8")
    importer = CaseImporter(sqlite_store, actor="tester", default_region="CN", today=date(2026, 11, 28))
    assert importer.run(path).committed
    assert importer.run(path).committed  # the same national ID on file: no conflict
    with sqlite_store.reading() as session:
        debtor = session.execute(select(Debtor)).scalar_one()
        stored = session.execute(text("SELECT national_id FROM debtors")).scalar_one()
        assert (debtor.external_ref, debtor.national_id) == ("C-9", NATIONAL_ID)
        assert stored == cipher_of(session.connection().dialect).seal(NATIONAL_ID)


def test_postgresql_rows_hold_no_personal_data_in_clear(store: Store) -> None:
    _fill(store)
    _readable(store)
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT d.national_id, d.birth_date, d.email, a.line1, a.postal_code, p.e164, "
                                       "t.number_e164, h.e164 FROM debtors d JOIN addresses a ON a.debtor_id = d.id "
                                       "JOIN phones p ON p.debtor_id = d.id, attempts t, holds h")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert stored and all(value not in stored for value in CLEAR), stored


def test_a_phone_lookup_is_one_indexed_query(sqlite_store: Store) -> None:
    _fill(sqlite_store)
    sealed = Phone.__table__.c.e164.type.process_bind_param(MOBILE, sqlite_store.engine.dialect)
    with sqlite_store.engine.connect() as connection:
        plan = connection.execute(text("EXPLAIN QUERY PLAN SELECT debtor_id FROM phones WHERE e164 = :n"),
                                  {"n": sealed}).all()
        assert connection.execute(text("SELECT count(*) FROM phones WHERE e164 = :n"), {"n": sealed}).scalar() == 1
    assert any("USING INDEX ix_phones_e164" in row[-1] for row in plan), plan


def test_a_wrong_or_missing_key_serves_nothing(sqlite_store: Store, tmp_path: Path) -> None:
    _fill(sqlite_store)
    other = MasterKeys(tmp_path / "other" / KEY_FILE)
    other.add()
    for keys, error in ((other, KeyMissing), (MasterKeys(tmp_path / "none" / KEY_FILE), NoMasterKey)):
        stranger = Store(sqlite_store.url, keys=keys)
        with pytest.raises((StatementError, CryptoError)) as raised, stranger.reading() as session:
            session.execute(select(Phone.e164)).all()
        assert isinstance(getattr(raised.value, "orig", raised.value), error), raised.value
        stranger.dispose()
    impostor = MasterKeys(tmp_path / "impostor" / KEY_FILE)  # the right key id, another secret
    write_key_file(impostor.path, Keyring([MasterKey(sqlite_store.columns.keys.keyring().current.id, bytes(32))]))
    with pytest.raises(WrongKey), Store(sqlite_store.url, keys=impostor).reading() as session:
        session.execute(select(Phone.e164)).all()


def test_rotation_rewraps_the_column_key_and_keeps_every_value_readable(sqlite_store: Store) -> None:
    _fill(sqlite_store)
    keys = sqlite_store.columns.keys
    assert keys is not None
    old = keys.keyring().current.id
    new = keys.add().id
    with sqlite_store.engine.begin() as connection:
        assert sqlite_store.columns.rewrap(connection) == old
    keys.drop(old)
    assert keys.keyring().ids == [new]
    _readable(Store(sqlite_store.url, keys=MasterKeys(keys.path)))  # a fresh process, the old key gone
    _readable(sqlite_store)  # a running one keeps its data key


def test_an_upgrade_seals_what_was_written_in_clear(store: Store) -> None:
    migrate.downgrade(store.engine, "0018")
    with store.engine.begin() as connection:
        connection.execute(text("INSERT INTO debtors (id, external_ref, full_name, national_id, birth_date, email, "
                                "language, created_at, updated_at) VALUES (1, 'C-1', '张伟', :nid, :dob, :email, "
                                "'zh', :now, :now)"), {"nid": NATIONAL_ID, "dob": BIRTH, "email": EMAIL,
                                                        "now": datetime(2026, 1, 1)})
        connection.execute(text(f"INSERT INTO debtors (id, external_ref, full_name, language, created_at, updated_at) "
                                f"VALUES (2, 'nid:{NATIONAL_ID}', '李娜', 'zh', :now, :now)"), {"now": datetime(2026, 1, 1)})
        connection.execute(text("INSERT INTO phones (debtor_id, e164, kind, owner, priority, consent_automated, "
                                "status, dnc) VALUES (1, :n, 'mobile', 'debtor', 0, false, 'active', false)"),
                           {"n": MOBILE})
    migrate.upgrade(store.engine)
    with store.engine.connect() as connection:
        raw = connection.execute(text("SELECT d.national_id, d.birth_date, d.email, p.e164 FROM debtors d "
                                      "JOIN phones p ON p.debtor_id = d.id")).one()
        refiled = connection.execute(text("SELECT external_ref FROM debtors WHERE id = 2")).scalar_one()
    assert all(str(value).startswith("s1:") for value in raw), raw
    assert refiled.startswith("nid:") and NATIONAL_ID not in refiled
    with store.reading() as session:
        debtor = session.execute(select(Debtor).join(Phone).where(Phone.e164 == MOBILE)).scalar_one()
        assert (debtor.national_id, debtor.birth_date, debtor.email) == (NATIONAL_ID, BIRTH, EMAIL)


def test_a_bulk_writer_seals_a_column_as_the_column_type_seals_each_value() -> None:
    """SealedString/SealedDate.seal_column (the importer's writer) give the text their bind processors give."""
    cipher = ColumnCipher(bytes(range(64)))
    assert SealedString(20).seal_column(cipher, [MOBILE, NATIONAL_ID]) == [cipher.seal(MOBILE),
                                                                           cipher.seal(NATIONAL_ID)]
    assert SealedDate().seal_column(cipher, [BIRTH, date(2001, 12, 31)]) == [cipher.seal("1990-03-07"),
                                                                            cipher.seal("2001-12-31")]
