"""The database schema. Uniqueness lives in constraints, not in checks in code.

The ledger (refunds, payments, audit) is the source of truth; ``jobs`` rows are the outbox a
queue message only wakes workers up for.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Timestamp = DateTime(timezone=True)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("connector", String(64), nullable=False),
    Column("store_id", String(255), nullable=False),
    Column("topic", String(255), nullable=False),
    Column("dedupe_key", String(255), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", Timestamp, nullable=False),
    # received -> done | ignored | dead (parse failed: kept, visible, replayable) | ack (ping)
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("processed_at", Timestamp),
    # one store's event id never makes another store's delivery a duplicate
    UniqueConstraint("connector", "store_id", "dedupe_key", name="uq_deliveries_store_dedupe"),
)
Index("ix_deliveries_status", deliveries.c.status, deliveries.c.received_at)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # delivery | refund
    Column("subject_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # ready | running | done
    Column("run_after", Timestamp, nullable=False),
    Column("lease_until", Timestamp),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", Timestamp, nullable=False),
)
Index("ix_jobs_ready", jobs.c.state, jobs.c.run_after)

stores = Table(
    "stores",
    metadata,
    Column("connector", String(64), primary_key=True),
    Column("store_id", String(255), primary_key=True),
    Column("settings", JSON, nullable=False),
    Column("credentials", Text, nullable=False),  # Fernet token of a JSON object
    Column("routes", JSON, nullable=False),
    Column("policy", String(255)),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("source", String(16), nullable=False),  # config | install
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

store_state = Table(
    "store_state",
    metadata,
    Column("connector", String(64), primary_key=True),
    Column("store_id", String(255), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Column("expires_at", Timestamp),  # None: kept; otherwise pruned (install nonces and the like)
)
Index("ix_store_state_expires", store_state.c.expires_at)

payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", String(255), nullable=False),
    Column("route", String(128), nullable=False),  # gateway:<account> | platform | none
    Column("reference", String(255), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("captured", BigInteger, nullable=False),
    Column("disputed", Boolean, nullable=False, default=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("store_id", "route", "reference", name="uq_payments_store_route_reference"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("connector", String(64), nullable=False),
    Column("store_id", String(255), nullable=False),
    Column("source_ref", String(255), nullable=False),
    Column("order_id", String(255), nullable=False),
    Column("kind", String(16), nullable=False),  # requested | recorded
    Column("state", String(16), nullable=False),
    Column("money_moved", Boolean, nullable=False, default=False),
    Column("amount", BigInteger, nullable=False),  # requested
    Column("approved_amount", BigInteger),  # what policy allowed; what is executed
    Column("currency", String(3), nullable=False),
    Column("route", String(128)),
    Column("payment_id", Integer, ForeignKey("payments.id")),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("gateway_refund_id", String(255)),
    Column("decision", JSON),
    Column("policy_version", String(64)),
    Column("request", JSON, nullable=False),
    Column("customer_id", String(255)),
    Column("customer_email", String(320)),
    Column("payment_fingerprint", String(255)),
    Column("delivery_id", String(32)),
    Column("lease_until", Timestamp),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("writeback_ref", String(255)),
    Column("writeback_lease_until", Timestamp),  # a worker holds the write-back until then
    # no trace at the executor and the key can no longer be replayed: only a person can settle it
    Column("needs_person", Boolean, nullable=False, default=False, server_default=false()),
    Column("assigned_to", String(32)),  # the user working the refund in the review queue
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("executed_at", Timestamp),
    # a part of a refund paid back across several tenders: the refund it is a part of (hub.ledger.tenders)
    Column("parent_id", String(32)),
    UniqueConstraint("store_id", "connector", "source_ref", name="uq_refunds_store_source"),
)
Index("ix_refunds_state", refunds.c.state, refunds.c.updated_at)
Index("ix_refunds_payment", refunds.c.payment_id)
Index("ix_refunds_gateway_ref", refunds.c.gateway_refund_id)
Index("ix_refunds_customer", refunds.c.store_id, refunds.c.customer_email)
Index("ix_refunds_created", refunds.c.created_at)
# the review queue: each waiting state in age order, the scope filtered in the index (migration 0012)
Index("ix_refunds_queue", refunds.c.state, refunds.c.created_at, refunds.c.id, refunds.c.connector, refunds.c.store_id)
Index("ix_refunds_needs_person", refunds.c.needs_person, refunds.c.created_at)  # the queue's flagged rows
# amount ranges in one currency, newest first: answered from the index alone (migration 0012)
Index(
    "ix_refunds_currency_amount",
    refunds.c.currency,
    refunds.c.amount,
    refunds.c.created_at,
    refunds.c.id,
    refunds.c.connector,
    refunds.c.store_id,
)
Index("ix_refunds_store_created", refunds.c.store_id, refunds.c.created_at)
# refunds (not parts) newest first: each page of an export a range from its cursor (migration 0018)
Index("ix_refunds_keyset", refunds.c.parent_id, refunds.c.created_at, refunds.c.id)
# analytics: a period of some stores with every non-JSON column the figures read (migration 0016)
ANALYTICS_COLUMNS = ("store_id", "created_at", "connector", "parent_id", "state", "currency", "amount",
                     "approved_amount", "money_moved", "route", "kind", "executed_at", "order_id", "id")  # fmt: skip
Index("ix_refunds_analytics", *(refunds.c[name] for name in ANALYTICS_COLUMNS))

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Timestamp, nullable=False),
    Column("refund_id", String(32)),
    Column("delivery_id", String(32)),
    Column("actor", String(128), nullable=False),  # worker | janitor | policy | admin:<who> | ingest
    Column("action", String(64), nullable=False),
    Column("detail", JSON, nullable=False),
    # the hash chain (hub.ledger.audit): None on entries written before it existed
    Column("chain", String(255)),  # the store's id ("-": entries of no store)
    Column("seq", BigInteger),  # position in the chain, from 1
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
)
Index("ix_audit_refund", audit.c.refund_id, audit.c.id)
Index("uq_audit_chain_seq", audit.c.chain, audit.c.seq, unique=True)  # two writers can never fork a chain

data_exports = Table(
    "data_exports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("connector", String(64), nullable=False),
    Column("store_id", String(255), nullable=False),
    Column("kind", String(32), nullable=False),  # customer_data
    Column("request_ref", String(255)),  # the platform's data request id
    Column("created_at", Timestamp, nullable=False),
    Column("content", JSON, nullable=False),
)
Index("ix_data_exports_store", data_exports.c.store_id, data_exports.c.created_at)

duties = Table(
    "duties",
    metadata,
    Column("name", String(255), primary_key=True),  # resolve | redrive | poll:<connector>:<store> | prune …
    Column("owner", String(128)),  # host:pid of the janitor holding it
    Column("lease_until", Timestamp),
    Column("last_started", Timestamp),
    Column("last_finished", Timestamp),
    Column("last_duration", Float),  # seconds
    Column("last_error", Text),
    Column("runs", Integer, nullable=False, default=0, server_default="0"),
    Column("failures", Integer, nullable=False, default=0, server_default="0"),
)

# people: who may look at and act on which stores (the console and the JSON API)
users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("role", String(16), nullable=False),  # owner | approver | support | analyst
    Column("password_hash", String(255), nullable=False),  # argon2id
    Column("totp_secret", Text),  # sealed with the SecretBox; None: no second factor
    Column("session_epoch", Integer, nullable=False, default=0, server_default="0"),  # bump: sessions end
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", Timestamp, nullable=False),
    Column("last_login_at", Timestamp),
)

grants = Table(
    "grants",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("connector", String(64), primary_key=True),  # "*": every connector
    Column("store_id", String(255), primary_key=True),  # "*": every store of the connector
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), nullable=False),
    Column("name", String(255), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token; the token is shown once
    Column("scopes", JSON, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("last_used_at", Timestamp),
    Column("revoked_at", Timestamp),
)

throttles = Table(
    "throttles",
    metadata,
    Column("key", String(255), primary_key=True),  # login:<email> | login-ip:<address>
    Column("count", Integer, nullable=False),
    Column("window_until", Timestamp, nullable=False),
)

approvals = Table(
    "approvals",
    metadata,
    Column("refund_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    Column("at", Timestamp, nullable=False),
)

refund_notes = Table(
    "refund_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("refund_id", String(32), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("at", Timestamp, nullable=False),
)
Index("ix_refund_notes_refund", refund_notes.c.refund_id, refund_notes.c.id)
