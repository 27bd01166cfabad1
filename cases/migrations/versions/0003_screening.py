"""screening

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 22:12:28.923216
"""

import sqlalchemy as sa
from alembic import op

import cases.models.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('screening_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('severity_rank', sa.Integer(), nullable=False),
    sa.Column('speaker', sa.String(length=16), nullable=False),
    sa.Column('utterance_id', sa.String(length=64), nullable=True),
    sa.Column('start_s', sa.Float(), nullable=True),
    sa.Column('end_s', sa.Float(), nullable=True),
    sa.Column('span_start', sa.Integer(), nullable=True),
    sa.Column('span_end', sa.Integer(), nullable=True),
    sa.Column('excerpt', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=False),
    sa.Column('ruleset', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('open', 'confirmed', 'false_positive', 'needs_coaching', name='findingstatus', native_enum=False, length=24), nullable=False),
    sa.Column('hold_id', sa.Integer(), nullable=True),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_screening_findings_account_id_accounts')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_screening_findings_agent_id_users')),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_screening_findings_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['hold_id'], ['holds.id'], name=op.f('fk_screening_findings_hold_id_holds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_findings'))
    )
    with op.batch_alter_table('screening_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_findings_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_findings_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_findings_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_findings_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_findings_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_findings_status'), ['status'], unique=False)
        batch_op.create_index('ix_screening_findings_status_severity', ['status', 'severity_rank'], unique=False)

    op.create_table('screening_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.Enum('confirmed', 'false_positive', 'needs_coaching', name='decision', native_enum=False, length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', cases.models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['screening_findings.id'], name=op.f('fk_screening_reviews_finding_id_screening_findings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_reviews'))
    )
    with op.batch_alter_table('screening_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_reviews_finding_id'), ['finding_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('screening_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screening_reviews_finding_id'))

    op.drop_table('screening_reviews')
    with op.batch_alter_table('screening_findings', schema=None) as batch_op:
        batch_op.drop_index('ix_screening_findings_status_severity')
        batch_op.drop_index(batch_op.f('ix_screening_findings_status'))
        batch_op.drop_index(batch_op.f('ix_screening_findings_created_at'))
        batch_op.drop_index(batch_op.f('ix_screening_findings_category'))
        batch_op.drop_index(batch_op.f('ix_screening_findings_attempt_id'))
        batch_op.drop_index(batch_op.f('ix_screening_findings_agent_id'))
        batch_op.drop_index(batch_op.f('ix_screening_findings_account_id'))

    op.drop_table('screening_findings')
