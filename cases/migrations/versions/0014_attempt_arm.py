"""attempt arm: the champion/challenger arm whose strategy ranked a call

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts') as batch:
        batch.add_column(sa.Column('arm', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attempts') as batch:
        batch.drop_column('arm')
