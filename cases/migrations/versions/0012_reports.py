"""reports (placeholder: filled by the work that needs it)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 06:00:00.000000
"""

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
