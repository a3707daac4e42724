"""merge: the features of 2026-12-03 (tenders, audit chain and outgoing webhooks, policy versions,
disputes, console indexes, customer notices, reconciliation) were built side by side from 0007;
this joins them so the next revision has one parent

Revision ID: 0015_merge_session_5
Revises: 0008_tenders, 0009_audit_chain_webhooks, 0010_policy_versions, 0011_disputes,
    0012_console_indexes, 0013_customer, 0014_reconcile
"""

from __future__ import annotations

revision = "0015_merge_session_5"
down_revision = (
    "0008_tenders",
    "0009_audit_chain_webhooks",
    "0010_policy_versions",
    "0011_disputes",
    "0012_console_indexes",
    "0013_customer",
    "0014_reconcile",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
