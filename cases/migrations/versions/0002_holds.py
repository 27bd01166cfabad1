"""holds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 18:47:16.767282
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cases.models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('cease', 'dnc', 'dispute', 'bankruptcy', 'deceased', 'legal', 'consent_revoked', 'no_call_times', name='holdkind', native_enum=False, length=24), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('phone_id', sa.Integer(), nullable=True),
    sa.Column('e164', sa.String(length=20), nullable=True),
    sa.Column('starts_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.Column('ends_at', cases.models.base.UtcDateTime(), nullable=True),
    sa.Column('schedule', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.Column('released_at', cases.models.base.UtcDateTime(), nullable=True),
    sa.Column('released_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_holds_account_id_accounts')),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_holds_debtor_id_debtors')),
    sa.ForeignKeyConstraint(['phone_id'], ['phones.id'], name=op.f('fk_holds_phone_id_phones')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holds'))
    )
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holds_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holds_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holds_e164'), ['e164'], unique=False)
        batch_op.create_index(batch_op.f('ix_holds_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_holds_phone_id'), ['phone_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holds_phone_id'))
        batch_op.drop_index(batch_op.f('ix_holds_kind'))
        batch_op.drop_index(batch_op.f('ix_holds_e164'))
        batch_op.drop_index(batch_op.f('ix_holds_debtor_id'))
        batch_op.drop_index(batch_op.f('ix_holds_account_id'))

    op.drop_table('holds')
