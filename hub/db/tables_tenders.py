"""The tenders a refund may be paid back to: one row per tender of the order, in the order the
platform lists them, with the route that moves its money and the store's allocation strategy.

Written when the refund is decided, so a person approving it later (or another amount) allocates
across the same tenders. The parts themselves are refund rows with ``parent_id`` set.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from hub.db.tables import metadata

refund_tenders = Table(
    "refund_tenders",
    metadata,
    Column("refund_id", String(32), ForeignKey("refunds.id"), primary_key=True),
    Column("position", Integer, primary_key=True),  # index into the request's payments
    Column("payment_id", Integer, ForeignKey("payments.id"), nullable=False),
    Column("route", String(128), nullable=False),  # gateway:<account> | platform | none
    Column("strategy", String(32), nullable=False),  # hub.ledger.tenders.STRATEGIES
)
