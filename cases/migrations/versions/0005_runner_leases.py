"""runner leases and after-call jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import cases.models.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('runner_leases',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('acquired_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.Column('expires_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_runner_leases_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_runner_leases'))
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aftercall', sa.Enum('queued', 'done', name='aftercallstate', native_enum=False, length=24), nullable=True))
        batch_op.create_index(batch_op.f('ix_attempts_aftercall'), ['aftercall'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attempts_aftercall'))
        batch_op.drop_column('aftercall')

    op.drop_table('runner_leases')
