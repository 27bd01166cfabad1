"""retention: the destruction log, one row per batch of records destroyed, and indexes on the foreign keys the
retention job's deletes check (cases/models/retention.py)

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-03 09:10:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cases.models.base

revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None

INDEXES = (('ix_attempts_phone_id', 'attempts', 'phone_id'), ('ix_notes_attempt_id', 'notes', 'attempt_id'),
           ('ix_reminders_sent_attempt_id', 'reminders_sent', 'attempt_id'),
           ('ix_statement_lines_payment_id', 'statement_lines', 'payment_id'),
           ('ix_screening_findings_hold_id', 'screening_findings', 'hold_id'))


def upgrade() -> None:
    op.create_table(
        'destruction_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_at', cases.models.base.UtcDateTime(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('jurisdiction', sa.String(length=16), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('tally', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                  nullable=False),
        sa.Column('policies', sa.String(length=32), nullable=False),
        sa.Column('keep_days', sa.Integer(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_destruction_log')),
    )
    op.create_index(op.f('ix_destruction_log_run_at'), 'destruction_log', ['run_at'], unique=False)
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_index(op.f('ix_destruction_log_run_at'), table_name='destruction_log')
    op.drop_table('destruction_log')
