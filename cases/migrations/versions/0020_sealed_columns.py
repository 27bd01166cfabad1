"""sealed columns: national ID, date of birth, e-mail, address line and postal code, phone numbers (phones,
attempts, holds), e-mail recipients and verification keys sealed with the column key (issue 17;
crypto/columns.py, cases/columns.py, cases/models/sealed.py)

Existing values are sealed in place, and debtors filed under a national ID refiled under its token; a database that holds personal data cannot be upgraded without its master
key (NoMasterKey, nothing changed). The downgrade opens them again.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-03 23:50:00.000000
"""

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from cases.importer.record import NATIONAL_ID_REF
from cases.models.sealed import DIALECT_ATTRIBUTE
from crypto import NoMasterKey

revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None

# table: {column: (plain type, nullable)}
SEALED: dict[str, dict[str, tuple[Any, bool]]] = {
    'debtors': {'national_id': (sa.String(32), True), 'birth_date': (sa.Date(), True), 'email': (sa.String(255), True)},
    'addresses': {'line1': (sa.String(300), True), 'postal_code': (sa.String(20), True)},
    'phones': {'e164': (sa.String(20), False)},
    'attempts': {'number_e164': (sa.String(20), False), 'address': (sa.String(320), True)},
    'holds': {'e164': (sa.String(20), True)},
    'verification_failures': {'key': (sa.String(32), False)},
}


def _columns() -> Any:
    columns = getattr(op.get_bind().dialect, DIALECT_ATTRIBUTE, None)
    if columns is None:
        raise NoMasterKey("the case store was opened without master keys: personal columns cannot be sealed")
    return columns


def _alter(to_sealed: bool) -> None:
    for table, columns in SEALED.items():
        with op.batch_alter_table(table) as batch_op:
            for name, (plain, nullable) in columns.items():
                old, new = (plain, sa.String()) if to_sealed else (sa.String(), plain)
                using = {'postgresql_using': f'{name}::{new.compile(op.get_bind().dialect)}'} \
                    if isinstance(plain, sa.Date) else {}
                batch_op.alter_column(name, existing_type=old, type_=new, existing_nullable=nullable, **using)


def _rewrite(convert: Callable[[str], str]) -> None:
    """Every value of every sealed column through `convert` (dates as their ISO text: the columns are text)."""
    bind = op.get_bind()
    for table, columns in SEALED.items():
        for name in columns:
            rows = sa.table(table, sa.column('id', sa.Integer()), sa.column(name, sa.String()))
            found = bind.execute(sa.select(rows.c.id, rows.c[name]).where(rows.c[name].is_not(None))).all()
            if found:
                bind.execute(sa.update(rows).where(rows.c.id == sa.bindparam('row_id'))
                             .values({name: sa.bindparam('value')}),
                             [{'row_id': row_id, 'value': convert(str(value))} for row_id, value in found])


def _retoken(token: Callable[[str], str]) -> None:
    """Debtors filed under their national ID (`nid:<ID>`, cases.importer.record) refiled under its token."""
    bind = op.get_bind()
    debtors = sa.table('debtors', sa.column('id', sa.Integer()), sa.column('external_ref', sa.String()))
    found = bind.execute(sa.select(debtors.c.id, debtors.c.external_ref)
                         .where(debtors.c.external_ref.like(f'{NATIONAL_ID_REF}%'))).all()
    if found:
        bind.execute(sa.update(debtors).where(debtors.c.id == sa.bindparam('row_id'))
                     .values(external_ref=sa.bindparam('ref')),
                     [{'row_id': row_id, 'ref': NATIONAL_ID_REF + token(ref[len(NATIONAL_ID_REF):])}
                      for row_id, ref in found])


def _has_personal_data() -> bool:
    bind = op.get_bind()
    return any(bind.execute(sa.text(f'SELECT 1 FROM {table} LIMIT 1')).first() for table in SEALED)


def upgrade() -> None:
    op.create_table(
        'column_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('master_key_id', sa.String(length=23), nullable=False),
        sa.Column('nonce', sa.LargeBinary(), nullable=False),
        sa.Column('wrapped', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('rewrapped_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_column_keys')),
    )
    _alter(to_sealed=True)
    if _has_personal_data():
        cipher = _columns().ensure(op.get_bind())
        _rewrite(cipher.seal)
        _retoken(lambda national_id: cipher.token(national_id))


def downgrade() -> None:
    if _has_personal_data():
        _rewrite(_columns().ensure(op.get_bind()).open)
    _alter(to_sealed=False)
    op.drop_table('column_keys')
