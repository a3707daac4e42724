"""console indexes: the review queue walks each waiting state in age order with the id and store in
the index, flagged rows by age, amount ranges per currency; none of them scans the ledger

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
    op.drop_index("ix_refunds_queue", table_name="refunds")
    op.create_index("ix_refunds_queue", "refunds", ["state", "created_at", "id", "connector", "store_id"])
    op.create_index("ix_refunds_needs_person", "refunds", ["needs_person", "created_at"])
    op.create_index(
        "ix_refunds_currency_amount", "refunds", ["currency", "amount", "created_at", "id", "connector", "store_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_refunds_currency_amount", table_name="refunds")
    op.drop_index("ix_refunds_needs_person", table_name="refunds")
    op.drop_index("ix_refunds_queue", table_name="refunds")
    op.create_index("ix_refunds_queue", "refunds", ["state", "created_at"])
