"""merge: the analytics rollup and the outside-refund connector with the export keyset were built
side by side from 0016 on 2026-12-04; this joins them so the next revision has one parent

Revision ID: 0019_merge_session_7
Revises: 0017_analytics_rollup, 0018_export_keyset_run_starter
"""

from __future__ import annotations

revision = "0019_merge_session_7"
down_revision = ("0017_analytics_rollup", "0018_export_keyset_run_starter")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
