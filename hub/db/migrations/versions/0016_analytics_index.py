"""analytics index: the refunds of some stores requested in a period, with every column the
analytics figures group and add that is not JSON, so they are read from the index alone and not
from a million rows of the ledger; the id too, for the joins to feedback and the audit trail
(hub.ledger.analytics; bench/analytics.py)

Revision ID: 0016_analytics_index
Revises: 0015_merge_session_5
"""

from __future__ import annotations

from alembic import op

revision = "0016_analytics_index"
down_revision = "0015_merge_session_5"
branch_labels = None
depends_on = None

COLUMNS = ["store_id", "created_at", "connector", "parent_id", "state", "currency", "amount", "approved_amount",
           "money_moved", "route", "kind", "executed_at", "order_id", "id"]  # fmt: skip


def upgrade() -> None:
    op.create_index("ix_refunds_analytics", "refunds", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_refunds_analytics", table_name="refunds")
