"""refunds.needs_person: a refund only a person can settle is a fact, not a search of the audit trail

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("needs_person", sa.Boolean(), nullable=False, server_default=sa.false()))
    # refunds the janitor already flagged before the column existed
    op.execute(
        "UPDATE refunds SET needs_person = TRUE WHERE id IN "
        "(SELECT refund_id FROM audit WHERE action = 'needs_person' AND refund_id IS NOT NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("needs_person")
