"""assignment: teams, agent profiles, case assignments with history; versioned message and script templates

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cases.models.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_teams_name'))
    )
    op.create_table('agent_profiles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('skills', _json(), nullable=False),
    sa.Column('languages', _json(), nullable=False),
    sa.Column('absent', sa.Boolean(), nullable=False),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_agent_profiles_team_id_teams')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agent_profiles_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_agent_profiles'))
    )
    with op.batch_alter_table('agent_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_profiles_team_id'), ['team_id'], unique=False)
    op.create_table('case_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('team', sa.String(length=64), nullable=True),
    sa.Column('pool', sa.String(length=64), nullable=True),
    sa.Column('rule', sa.String(length=64), nullable=True),
    sa.Column('rules_version', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('receipt', _json(), nullable=False),
    sa.Column('assigned_by', sa.String(length=64), nullable=False),
    sa.Column('assigned_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.Column('ended_at', cases.models.base.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_case_assignments_account_id_accounts')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_case_assignments_agent_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_assignments'))
    )
    with op.batch_alter_table('case_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_case_assignments_account_ended', ['account_id', 'ended_at'], unique=False)
        batch_op.create_index('ix_case_assignments_agent_ended', ['agent_id', 'ended_at'], unique=False)
    op.create_table('message_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('stage', 'channel', 'language', 'version',
                        name=op.f('uq_message_templates_stage_channel_language_version'))
    )


def downgrade() -> None:
    op.drop_table('message_templates')
    with op.batch_alter_table('case_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_case_assignments_agent_ended')
        batch_op.drop_index('ix_case_assignments_account_ended')
    op.drop_table('case_assignments')
    with op.batch_alter_table('agent_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_profiles_team_id'))
    op.drop_table('agent_profiles')
    op.drop_table('teams')
