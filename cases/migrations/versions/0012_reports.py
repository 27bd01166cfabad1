"""reports: indexes on the columns the reports filter and join by (cases/models/reports.py)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 06:00:00.000000
"""

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

INDEXES = (("ix_attempts_started_at", "attempts", "started_at"), ("ix_promises_attempt_id", "promises", "attempt_id"),
           ("ix_promises_created_at", "promises", "created_at"), ("ix_payments_paid_on", "payments", "paid_on"))


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
