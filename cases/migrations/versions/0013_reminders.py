"""reminders: the reminders sent or refused, one row per (account, rule, due date) (cases/models/reminders.py)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 07:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import cases.models.base

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reminders_sent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=64), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('stage', sa.String(length=32), nullable=False),
        sa.Column('strategy_version', sa.String(length=32), nullable=False),
        sa.Column('status', sa.Enum('sent', 'refused', 'deferred', name='reminderstatus', native_enum=False,
                                    create_constraint=False, length=24), nullable=False),
        sa.Column('attempt_id', sa.Integer(), nullable=True),
        sa.Column('refused_check', sa.String(length=64), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
        sa.Column('updated_at', cases.models.base.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_reminders_sent_account_id_accounts')),
        sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_reminders_sent_attempt_id_attempts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_sent')),
        sa.UniqueConstraint('account_id', 'rule', 'due_date',
                            name=op.f('uq_reminders_sent_account_id_rule_due_date')),
    )


def downgrade() -> None:
    op.drop_table('reminders_sent')
