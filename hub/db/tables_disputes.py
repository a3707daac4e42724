"""The disputes the gateways reported, one row per dispute: the fact "refunds on this payment
must wait" survives a gateway lookup that lags behind its own webhooks."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, UniqueConstraint

from hub.db.tables import Timestamp, metadata

disputes = Table(
    "disputes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("route", String(128), nullable=False),  # gateway:<account>, as on payments.route
    Column("dispute_id", String(255), nullable=False),
    Column("payment_reference", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # open | won | lost (hub.contracts.DisputeState)
    Column("raw_status", String(64), nullable=False),
    Column("holds", Boolean, nullable=False),
    Column("amount", BigInteger, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("state_at", Timestamp, nullable=True),  # the gateway's time of this state
    Column("updated_at", Timestamp, nullable=False),
    # one row per (dispute, payment reference): a PayPal dispute may name several transactions,
    # a Stripe one both its PaymentIntent and its charge
    UniqueConstraint("route", "dispute_id", "payment_reference", name="uq_disputes_route_dispute_id"),
    Index("ix_disputes_route_payment", "route", "payment_reference"),
)
