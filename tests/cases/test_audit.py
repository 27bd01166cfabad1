from sqlalchemy import delete, text, update

from cases import Store
from cases.audit import AuditDraft, append, record, verify_chain
from cases.models import AuditEntry


def _write_three(store: Store) -> None:
    with store.session() as session:
        record(session, actor="alice", action="case.note_added", entity="account", entity_id=1, details={"n": 1})
        append(session, [AuditDraft("bob", "promise.created", "account", 2, {"amount": "10.00"}),
                         AuditDraft("bob", "promise.kept", "account", 2, {})])


def test_chain_links_each_row_to_the_previous(store: Store) -> None:
    _write_three(store)
    with store.session() as session:
        entries = list(session.query(AuditEntry).order_by(AuditEntry.seq))
        report = verify_chain(session)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[1].prev_hash == entries[0].hash and entries[2].prev_hash == entries[1].hash
    assert report.intact and report.rows == 3


def test_a_row_edited_in_the_database_is_detected(store: Store) -> None:
    _write_three(store)
    with store.engine.begin() as connection:  # an attacker with SQL access, bypassing the application
        connection.execute(update(AuditEntry.__table__).where(AuditEntry.seq == 2).values(actor="mallory"))
    with store.session() as session:
        report = verify_chain(session)
    assert not report.intact
    assert [b.seq for b in report.breaks] == [2]
    assert "edited" in report.breaks[0].reason


def test_a_deleted_row_is_detected(store: Store) -> None:
    _write_three(store)
    with store.engine.begin() as connection:
        connection.execute(delete(AuditEntry.__table__).where(AuditEntry.seq == 2))
    with store.session() as session:
        report = verify_chain(session)
    assert {b.seq for b in report.breaks} == {3}


def test_rewriting_a_row_with_a_fresh_hash_still_breaks_the_next_link(store: Store) -> None:
    _write_three(store)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET hash = :h WHERE seq = 1"), {"h": "f" * 64})
    with store.session() as session:
        report = verify_chain(session)
    assert {b.seq for b in report.breaks} == {1, 2}


def test_audit_rows_roll_back_with_the_change(store: Store) -> None:
    try:
        with store.session() as session:
            record(session, actor="alice", action="x", entity="account", entity_id=1)
            raise RuntimeError("change failed")
    except RuntimeError:
        pass
    with store.session() as session:
        assert verify_chain(session).rows == 0
