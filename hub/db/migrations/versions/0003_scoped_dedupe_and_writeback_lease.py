"""deliveries are deduplicated per store; a write-back is claimed under a lease

Revision ID: 0003
Revises: 0002

A dedupe key is the platform's event id, and some are not unique across stores (Adobe I/O event
ids, the sandbox's raw ids): one store's delivery must never be taken for another's duplicate.
``writeback_lease_until`` makes recording a refund on the store a claim with one owner, like an
execution: two workers never call the platform for the same refund at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_connector_dedupe", type_="unique")
        batch_op.create_unique_constraint("uq_deliveries_store_dedupe", ["connector", "store_id", "dedupe_key"])
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("writeback_lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("writeback_lease_until")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_store_dedupe", type_="unique")
        batch_op.create_unique_constraint("uq_deliveries_connector_dedupe", ["connector", "dedupe_key"])
