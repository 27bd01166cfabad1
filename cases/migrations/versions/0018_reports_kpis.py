"""reports kpis: the daily DPD snapshot, the agent state log and its hourly sums, the daily jobs done (issue 19;
cases/models/snapshots.py, agent_log.py, daily_jobs.py)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 09:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import cases.models.base

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dpd_snapshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('dpd_bucket', sa.String(length=16), nullable=False),
        sa.Column('balance', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column('placed', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_dpd_snapshots_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dpd_snapshots')),
        sa.UniqueConstraint('day', 'account_id', name=op.f('uq_dpd_snapshots_day_account_id')),
    )
    with op.batch_alter_table('dpd_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dpd_snapshots_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_dpd_snapshots_placed_day', ['placed', 'day'], unique=False)
    op.create_table(
        'agent_state_spans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agent', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=24), nullable=False),
        sa.Column('reason', sa.String(length=100), nullable=True),
        sa.Column('started_at', cases.models.base.UtcDateTime(), nullable=False),
        sa.Column('ended_at', cases.models.base.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_state_spans')),
    )
    with op.batch_alter_table('agent_state_spans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_state_spans_agent'), ['agent'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_state_spans_started_at'), ['started_at'], unique=False)
    op.create_table(
        'agent_state_hours',
        sa.Column('agent', sa.String(length=64), nullable=False),
        sa.Column('hour', cases.models.base.UtcDateTime(), nullable=False),
        sa.Column('state', sa.String(length=24), nullable=False),
        sa.Column('seconds', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('agent', 'hour', 'state', name=op.f('pk_agent_state_hours')),
    )
    with op.batch_alter_table('agent_state_hours', schema=None) as batch_op:
        batch_op.create_index('ix_agent_state_hours_hour', ['hour'], unique=False)
    op.create_table(
        'daily_job_runs',
        sa.Column('job', sa.String(length=32), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('done_at', cases.models.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('job', 'day', name=op.f('pk_daily_job_runs')),
    )


def downgrade() -> None:
    op.drop_table('daily_job_runs')
    with op.batch_alter_table('agent_state_hours', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_state_hours_hour')
    op.drop_table('agent_state_hours')
    with op.batch_alter_table('agent_state_spans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_state_spans_started_at'))
        batch_op.drop_index(batch_op.f('ix_agent_state_spans_agent'))
    op.drop_table('agent_state_spans')
    with op.batch_alter_table('dpd_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_dpd_snapshots_placed_day')
        batch_op.drop_index(batch_op.f('ix_dpd_snapshots_account_id'))
    op.drop_table('dpd_snapshots')
