"""retention (placeholder: filled in by the change that needs it)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 09:10:00.000000
"""

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
