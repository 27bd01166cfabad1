"""message parts: the provider's id of each part of a long SMS, so a delivery receipt naming any part finds its
attempt after a restart (issue 18; cases/models/contact.py MessagePart)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 04:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'message_parts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('attempt_id', sa.Integer(), nullable=False),
        sa.Column('provider_message_id', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_message_parts_attempt_id_attempts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_parts')),
    )
    with op.batch_alter_table('message_parts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_parts_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_parts_provider_message_id'), ['provider_message_id'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('message_parts')
