"""message channels and tasks: a reminder recorded per channel (SMS, e-mail, an agent's task), an e-mail address
marked bounced, the agents' escalation tasks (issue 18; cases/models/reminders.py, party.py, tasks.py)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import cases.models.base

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=8), nullable=False, server_default='sms'))
        batch_op.drop_constraint('uq_reminders_sent_account_id_rule_due_date', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_reminders_sent_account_id_rule_due_date_channel'),
                                          ['account_id', 'rule', 'due_date', 'channel'])
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_bounced_at', cases.models.base.UtcDateTime(), nullable=True))
    op.create_table(
        'agent_tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=64), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('stage', sa.String(length=32), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('pool', sa.String(length=64), nullable=True),
        sa.Column('status', sa.Enum('open', 'done', name='taskstatus', native_enum=False, create_constraint=False,
                                    length=24), nullable=False),
        sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
        sa.Column('closed_at', cases.models.base.UtcDateTime(), nullable=True),
        sa.Column('closed_by', sa.String(length=64), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_agent_tasks_account_id_accounts')),
        sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_agent_tasks_agent_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_tasks')),
        sa.UniqueConstraint('account_id', 'rule', 'due_date', name=op.f('uq_agent_tasks_account_id_rule_due_date')),
    )
    with op.batch_alter_table('agent_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_agent_tasks_agent_status', ['agent_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_table('agent_tasks')
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.drop_column('email_bounced_at')
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reminders_sent_account_id_rule_due_date_channel', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_reminders_sent_account_id_rule_due_date'),
                                          ['account_id', 'rule', 'due_date'])
        batch_op.drop_column('channel')
