"""export keyset and who ran a reconciliation: refunds (not parts) newest first in one index on
(parent_id, created_at, id), so each page of a million-refund CSV export is a range of that index
read from the cursor on (SQLite otherwise picked the parent index and sorted the ledger for every
page); it replaces ix_refunds_parent, its first column. And a reconciliation run started from the
console keeps who asked for it (the audit actor and the user id).

Revision ID: 0018_export_keyset_run_starter
Revises: 0017_outside_refunds_connector
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_export_keyset_run_starter"
down_revision = "0017_outside_refunds_connector"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_refunds_keyset", "refunds", ["parent_id", "created_at", "id"])
    op.drop_index("ix_refunds_parent", table_name="refunds")
    with op.batch_alter_table("reconcile_runs") as batch:
        batch.add_column(sa.Column("started_by", sa.String(330), nullable=True))
        batch.add_column(sa.Column("started_by_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reconcile_runs") as batch:
        batch.drop_column("started_by_id")
        batch.drop_column("started_by")
    op.create_index("ix_refunds_parent", "refunds", ["parent_id"])
    op.drop_index("ix_refunds_keyset", table_name="refunds")
