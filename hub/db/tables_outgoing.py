"""Tables of the assurance features: the head of each store's audit chain, the stored audit
reports, and outgoing webhooks
(endpoints merchants subscribe, the messages the ledger fans out to them, each delivery and
its attempts).

A message and its deliveries are written in the ledger transaction that records the refund's
change (``hub.ledger.audit``): the outbox the sender drains, exactly once with the change.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, String, Table, Text, UniqueConstraint

from hub.db.tables import Timestamp, metadata

audit_chains = Table(
    "audit_chains",
    metadata,
    Column("chain", String(255), primary_key=True),  # a store's id; "-": entries of no store
    Column("seq", BigInteger, nullable=False),  # the newest entry's position
    Column("head", String(64), nullable=False),  # the newest entry's hash
    Column("updated_at", Timestamp, nullable=False),
)

audit_reports = Table(
    "audit_reports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("store_id", String(255), nullable=False),
    Column("since", Timestamp, nullable=False),
    Column("until", Timestamp, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("content", JSON, nullable=False),
)
Index("ix_audit_reports_store", audit_reports.c.store_id, audit_reports.c.created_at)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(32), primary_key=True),  # ep_…
    Column("store_id", String(255), nullable=False),  # "*": every store
    Column("url", Text, nullable=False),
    Column("description", String(255), nullable=False, default=""),
    Column("events", JSON, nullable=False),  # event types, or ["*"]
    Column("secrets", Text, nullable=False),  # SecretBox token: {"current": whsec_…, "previous": …}
    Column("previous_until", Timestamp),  # the previous secret signs too until then (rotation)
    Column("enabled", Boolean, nullable=False, default=True),
    Column("disabled_reason", Text),
    Column("failure_limit", Integer),  # None: the hub's default
    Column("failures", Integer, nullable=False, default=0),  # failed attempts in a row
    Column("next_attempt_at", Timestamp),  # backing off until then
    Column("lease_until", Timestamp),  # a sender holds the endpoint (one at a time: in order)
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)
Index("ix_webhook_endpoints_store", webhook_endpoints.c.store_id)

webhook_messages = Table(
    "webhook_messages",
    metadata,
    Column("id", String(40), primary_key=True),  # msg_…: the webhook-id, the same on every retry and replay
    Column("event_type", String(64), nullable=False),
    Column("store_id", String(255), nullable=False),
    Column("refund_id", String(32)),
    Column("audit_id", Integer),
    Column("body", Text, nullable=False),  # the exact bytes signed and sent
    Column("created_at", Timestamp, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(40), nullable=False),
    Column("endpoint_id", String(32), nullable=False),
    Column("state", String(16), nullable=False),  # pending | succeeded
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("created_at", Timestamp, nullable=False),
    Column("delivered_at", Timestamp),
    UniqueConstraint("message_id", "endpoint_id", name="uq_webhook_deliveries_message_endpoint"),
)
Index(
    "ix_webhook_deliveries_due", webhook_deliveries.c.endpoint_id, webhook_deliveries.c.state, webhook_deliveries.c.id
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, nullable=False),
    Column("at", Timestamp, nullable=False),
    Column("status", Integer),  # None: no HTTP answer
    Column("error", Text),
    Column("response", Text),  # the first bytes of the receiver's answer
    Column("duration_ms", Integer, nullable=False),
)
Index("ix_webhook_attempts_delivery", webhook_attempts.c.delivery_id, webhook_attempts.c.id)
