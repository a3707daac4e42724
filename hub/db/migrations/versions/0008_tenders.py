"""tenders: refunds paid back across several tenders (parts are refund rows with a parent) and
the tenders each refund allocates across

Revision ID: 0008_tenders
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_tenders"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
        batch.create_index("ix_refunds_parent", ["parent_id"])
    op.create_table(
        "refund_tenders",
        sa.Column("refund_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(128), nullable=False),
        sa.Column("strategy", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"], name=op.f("fk_refund_tenders_refund_id_refunds")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_refund_tenders_payment_id_payments")),
        sa.PrimaryKeyConstraint("refund_id", "position", name=op.f("pk_refund_tenders")),
    )


def downgrade() -> None:
    op.drop_table("refund_tenders")
    with op.batch_alter_table("refunds") as batch:
        batch.drop_index("ix_refunds_parent")
        batch.drop_column("parent_id")
