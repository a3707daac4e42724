"""reconciliation runs, their drift items, repairs made once, monthly export files

Revision ID: 0014_reconcile
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_reconcile"
down_revision = "0007"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reconcile_runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(255), nullable=False),
        sa.Column("since", Timestamp, nullable=False),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reconcile_runs"),
    )
    op.create_index("ix_reconcile_runs_store", "reconcile_runs", ["connector", "store_id", "started_at"])
    op.create_table(
        "reconcile_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("refund_id", sa.String(32), nullable=True),
        sa.Column("payment_reference", sa.String(255), nullable=True),
        sa.Column("outside_id", sa.String(255), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("ledger_amount", sa.BigInteger(), nullable=True),
        sa.Column("outside_amount", sa.BigInteger(), nullable=True),
        sa.Column("ledger_state", sa.String(16), nullable=True),
        sa.Column("outside_state", sa.String(32), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("resolution", sa.String(32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reconcile_items"),
    )
    op.create_index("ix_reconcile_items_run", "reconcile_items", ["run_id", "id"])
    op.create_table(
        "reconcile_repairs",
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("subject", "action", name="pk_reconcile_repairs"),
    )
    op.create_table(
        "export_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(255), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_export_files"),
        sa.UniqueConstraint("connector", "store_id", "period", name="uq_export_files_store_period"),
    )


def downgrade() -> None:
    op.drop_table("export_files")
    op.drop_table("reconcile_repairs")
    op.drop_index("ix_reconcile_items_run", table_name="reconcile_items")
    op.drop_table("reconcile_items")
    op.drop_index("ix_reconcile_runs_store", table_name="reconcile_runs")
    op.drop_table("reconcile_runs")
