"""outside refunds under the store's connector: a refund a gateway reported (a dashboard click, a
reconciliation or backfill import) was stored with ``gateway:<account>`` as its connector, so
people scoped to the store could not see it; it now carries the connector of the store's own
refunds on the same payment (hub.ledger.refunds.open_outside_refund). Rows whose payment has no
store refund keep their old connector (visible to people with every store).

Revision ID: 0017_outside_refunds_connector
Revises: 0016_analytics_index
"""

from __future__ import annotations

from alembic import op

revision = "0017_outside_refunds_connector"
down_revision = "0016_analytics_index"
branch_labels = None
depends_on = None

_STORE_CONNECTOR = """(SELECT mine.connector FROM refunds AS mine
  WHERE mine.payment_id = refunds.payment_id AND mine.connector NOT LIKE 'gateway:%'
  AND NOT (mine.kind = 'recorded' AND mine.source_ref LIKE 'gateway:%')
  ORDER BY mine.created_at LIMIT 1)"""


def upgrade() -> None:
    op.execute(
        f"""UPDATE refunds SET connector = {_STORE_CONNECTOR}
        WHERE connector LIKE 'gateway:%' AND kind = 'recorded' AND source_ref LIKE 'gateway:%'
          AND {_STORE_CONNECTOR} IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM refunds AS taken WHERE taken.store_id = refunds.store_id
                          AND taken.source_ref = refunds.source_ref AND taken.connector = {_STORE_CONNECTOR})"""
    )


def downgrade() -> None:
    """Back to ``gateway:<account>``: the route of an outside refund is that account."""
    op.execute(
        """UPDATE refunds SET connector = route
        WHERE kind = 'recorded' AND source_ref LIKE 'gateway:%' AND connector NOT LIKE 'gateway:%'
          AND route LIKE 'gateway:%'"""
    )
