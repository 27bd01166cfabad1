"""campaigns

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 22:36:08.695762
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cases.models.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('draft', 'running', 'paused', 'finished', name='campaignstatus', native_enum=False, length=24), nullable=False),
    sa.Column('dial_mode', sa.String(length=16), nullable=False),
    sa.Column('agent_group', sa.String(length=64), nullable=True),
    sa.Column('ivr_flow', sa.String(length=100), nullable=True),
    sa.Column('caller_id', sa.String(length=32), nullable=True),
    sa.Column('abandon_target', sa.Double(), nullable=False),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.Column('updated_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('name', name=op.f('uq_campaigns_name'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_status'))

    op.drop_table('campaigns')
