"""store_state.expires_at: state that unauthenticated requests create (install nonces) expires

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("store_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_store_state_expires", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("store_state", schema=None) as batch_op:
        batch_op.drop_index("ix_store_state_expires")
        batch_op.drop_column("expires_at")
