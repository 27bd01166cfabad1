"""console sign-in: password change time, TOTP secret, failed sign-ins and block, language on users

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import cases.models.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_changed_at', cases.models.base.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_required', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('failed_signins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('blocked_until', cases.models.base.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
        batch_op.drop_column('blocked_until')
        batch_op.drop_column('failed_signins')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_required')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('password_changed_at')
