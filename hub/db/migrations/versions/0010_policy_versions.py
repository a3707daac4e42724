"""policy versions and drafts: the console publishes a store's policy as numbered versions (the
newest is the one the pipeline decides with) and keeps one draft per store with its shadow and
its pending two-person proposal

Revision ID: 0010_policy_versions
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_policy_versions"
down_revision = "0007"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("published_by", sa.String(320), nullable=False),
        sa.Column("checked_by", sa.String(320), nullable=True),
        sa.Column("published_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_versions")),
        sa.UniqueConstraint("connector", "store_id", "number", name="uq_policy_versions_store_number"),
    )
    op.create_table(
        "policy_drafts",
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("shadow_body", sa.Text(), nullable=True),
        sa.Column("shadow_since", Timestamp, nullable=True),
        sa.Column("shadow_by", sa.String(320), nullable=True),
        sa.Column("proposed_body", sa.Text(), nullable=True),
        sa.Column("proposed_by", sa.String(320), nullable=True),
        sa.Column("proposed_user", sa.String(32), nullable=True),
        sa.Column("proposed_at", Timestamp, nullable=True),
        sa.Column("proposed_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("connector", "store_id", name=op.f("pk_policy_drafts")),
    )


def downgrade() -> None:
    op.drop_table("policy_drafts")
    op.drop_table("policy_versions")
