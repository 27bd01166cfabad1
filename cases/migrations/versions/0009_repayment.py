"""repayment: imported payment statement lines and the unmatched queue

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import cases.models.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('txn_id', sa.String(length=100), nullable=False),
    sa.Column('paid_at', sa.DateTime(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('payer_name', sa.String(length=100), nullable=True),
    sa.Column('memo', sa.String(length=255), nullable=True),
    sa.Column('order_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.Enum('matched', 'unmatched', 'resolved', name='linestatus', native_enum=False, length=24), nullable=False),
    sa.Column('rule', sa.String(length=24), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_statement_lines_account_id_accounts')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_statement_lines_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_lines')),
    sa.UniqueConstraint('source', 'txn_id', name=op.f('uq_statement_lines_source_txn_id'))
    )
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_lines_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_lines_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_lines_status'))
        batch_op.drop_index(batch_op.f('ix_statement_lines_account_id'))
    op.drop_table('statement_lines')
