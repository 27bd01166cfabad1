"""agents across cluster nodes: a seat per signed-in agent naming the node that holds their phone's leg
(issue 22; campaigns/seats.py)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 07:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import cases.models.base

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'agent_seats',
        sa.Column('agent_id', sa.String(length=64), nullable=False),
        sa.Column('wish', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('leaving', sa.Boolean(), nullable=False),
        sa.Column('owner', sa.String(length=100), nullable=True),
        sa.Column('expires_at', cases.models.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_agent_seats')))


def downgrade() -> None:
    op.drop_table('agent_seats')
