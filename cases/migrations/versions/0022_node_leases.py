"""one campaign across nodes: a campaign lease per (campaign, runner) instead of per campaign, and the runner
that claimed each attempt, the nodes asked to drain (issue 22; campaigns/lease.py, campaigns/attempts.py,
campaigns/drain.py)

Leases are live state, renewed every few seconds by running nodes: the table is made anew (an upgrade runs with
the nodes stopped, so there is nothing in it worth keeping).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 04:15:00.000000
"""

import sqlalchemy as sa
from alembic import op

import cases.models.base

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def _leases(*key: str) -> None:
    op.create_table(
        'runner_leases',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=100), nullable=False),
        sa.Column('acquired_at', cases.models.base.UtcDateTime(), nullable=False),
        sa.Column('expires_at', cases.models.base.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_runner_leases_campaign_id_campaigns')),
        sa.PrimaryKeyConstraint(*key, name=op.f('pk_runner_leases')))


def upgrade() -> None:
    op.drop_table('runner_leases')
    _leases('campaign_id', 'owner')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=100), nullable=True))
    op.create_table(
        'node_drains',
        sa.Column('node_id', sa.String(length=40), nullable=False),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('requested_at', cases.models.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('node_id', name=op.f('pk_node_drains')))


def downgrade() -> None:
    op.drop_table('node_drains')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_column('owner')
    op.drop_table('runner_leases')
    _leases('campaign_id')
