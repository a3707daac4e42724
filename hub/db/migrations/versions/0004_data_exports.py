"""data_exports: what the hub holds on a customer, produced for the merchant on a data request

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_exports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("request_ref", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.create_index("ix_data_exports_store", ["store_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("data_exports")
