"""verification failures (the IVR's cross-call lockout)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import cases.models.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verification_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.Enum('account', 'caller', name='verificationsubject', native_enum=False, length=24), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('at', cases.models.base.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_failures'))
    )
    with op.batch_alter_table('verification_failures', schema=None) as batch_op:
        batch_op.create_index('ix_verification_failures_subject_key_at', ['subject', 'key', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('verification_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_verification_failures_subject_key_at')

    op.drop_table('verification_failures')
