"""console indexes: the review queue's needs_person rows by age, read without scanning the ledger

Revision ID: 0012_console_indexes
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0012_console_indexes"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_refunds_needs_person", "refunds", ["needs_person", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_refunds_needs_person", table_name="refunds")
