"""message channels: a reminder recorded per channel (SMS and e-mail both), and an e-mail address marked bounced
(issue 18; cases/models/reminders.py, party.py)

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-04 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import cases.models.base

revision = '0021'
down_revision = '0018'
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


def downgrade() -> None:
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.drop_column('email_bounced_at')
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reminders_sent_account_id_rule_due_date_channel', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_reminders_sent_account_id_rule_due_date'),
                                          ['account_id', 'rule', 'due_date'])
        batch_op.drop_column('channel')
