"""Tables of the customer's side: every notice the hub owes a customer (one row per refund, step
and channel, so a retried job never sends twice), the alternatives it issued on the platform
(store credit, coupons) and the feedback customers left.

A notice row is written in the same transaction as the state change it tells of; the ``notice``
job that sends it carries the row's id.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, SmallInteger, String, Table, Text, UniqueConstraint

from hub.db.tables import Timestamp, metadata

notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("refund_id", String(32), nullable=False),
    Column("step", String(32), nullable=False),  # received, in_review, approved, denied, offered, completed, ...
    Column("channel", String(16), nullable=False),  # platform | email
    Column("state", String(16), nullable=False),  # pending | sent | failed | skipped
    Column("attempts", Integer, nullable=False, default=0),
    Column("subject", Text, nullable=True),  # what was sent, exactly (filled when it goes out)
    Column("body", Text, nullable=True),
    Column("reference", String(255), nullable=True),  # the platform's note id, the SMTP message id
    Column("last_error", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("sent_at", Timestamp, nullable=True),
    UniqueConstraint("refund_id", "step", "channel", name="uq_notices_refund_step_channel"),
)
Index("ix_notices_refund", notices.c.refund_id, notices.c.id)

credits = Table(
    "credits",
    metadata,
    Column("id", String(32), primary_key=True),  # cr_…: also the idempotency key on the platform
    Column("refund_id", String(32), nullable=False, unique=True),  # one alternative per refund
    Column("kind", String(32), nullable=False),  # store_credit | coupon | gift_card (what was issued)
    Column("amount", BigInteger, nullable=False),  # minor units, bonus included
    Column("bonus", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("state", String(16), nullable=False),  # issuing | issued | unknown | failed
    Column("reference", String(255), nullable=True),  # the platform's transaction / coupon id
    Column("code", String(64), nullable=True),  # the coupon code the customer redeems
    Column("accepted_by", String(255), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("refund_id", String(32), nullable=False, unique=True),  # one answer per refund (a second replaces it)
    Column("rating", SmallInteger, nullable=False),  # 1..5
    Column("comment", Text, nullable=False, default=""),
    Column("reason", String(32), nullable=True),  # the customer's correction of the reason code
    Column("detail", JSON, nullable=True),
    Column("created_at", Timestamp, nullable=False),
)
