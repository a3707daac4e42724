"""disputes: each gateway dispute on a payment, so an open one holds refunds at once

Revision ID: 0011_disputes
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_disputes"
down_revision = "0007"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("route", sa.String(128), nullable=False),
        sa.Column("dispute_id", sa.String(255), nullable=False),
        sa.Column("payment_reference", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("raw_status", sa.String(64), nullable=False),
        sa.Column("holds", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("state_at", Timestamp, nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_disputes"),
        sa.UniqueConstraint("route", "dispute_id", "payment_reference", name="uq_disputes_route_dispute_id"),
    )
    op.create_index("ix_disputes_route_payment", "disputes", ["route", "payment_reference"])


def downgrade() -> None:
    op.drop_index("ix_disputes_route_payment", table_name="disputes")
    op.drop_table("disputes")
