"""messages: an attempt's channel (call, sms, email), delivery state, provider message id, address and text

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.Enum('call', 'sms', 'email', name='channel', native_enum=False,
                                                         length=24), nullable=False, server_default='call'))
        batch_op.add_column(sa.Column('delivery', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('provider_message_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('message_text', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_attempts_delivery'), ['delivery'], unique=False)
        batch_op.create_index('ix_attempts_channel_provider_id', ['channel', 'provider_message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_channel_provider_id')
        batch_op.drop_index(batch_op.f('ix_attempts_delivery'))
        batch_op.drop_column('message_text')
        batch_op.drop_column('address')
        batch_op.drop_column('provider_message_id')
        batch_op.drop_column('delivery')
        batch_op.drop_column('channel')
