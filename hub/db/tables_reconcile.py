"""Tables of reconciliation and exports: each comparison of the ledger with a store's gateways and
platform (a run and the drift it found), the repairs made once, and the monthly export files.

A repair is a row with a unique (refund, action): a second reconciliation that finds the same
drift reports it again but never repairs it twice.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from hub.db.tables import Timestamp, metadata

reconcile_runs = Table(
    "reconcile_runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),  # reconcile | backfill
    Column("connector", String(64), nullable=False),
    Column("store_id", String(255), nullable=False),
    Column("since", Timestamp, nullable=False),
    Column("started_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp),
    Column("counts", JSON, nullable=False),  # drift kind -> items, and what was imported or repaired
    Column("error", Text),  # a source that could not be listed (the run reports what it could read)
    # who asked for it in the console (migration 0018): the audit trail's actor (user:<email>) and the
    # user's id, which outlives a change of address; none for the daily duty and the CLI
    Column("started_by", String(330)),
    Column("started_by_id", String(32)),
)
Index("ix_reconcile_runs_store", reconcile_runs.c.connector, reconcile_runs.c.store_id, reconcile_runs.c.started_at)

reconcile_items = Table(
    "reconcile_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    Column("kind", String(32), nullable=False),  # hub.ledger.reconcile drift kinds
    Column("source", String(128), nullable=False),  # gateway:<account> | platform:<connector>
    Column("refund_id", String(32)),
    Column("payment_reference", String(255)),
    Column("outside_id", String(255)),  # the gateway refund id or the platform's record id
    Column("currency", String(3)),
    Column("ledger_amount", BigInteger),
    Column("outside_amount", BigInteger),
    Column("ledger_state", String(16)),
    Column("outside_state", String(32)),
    Column("action", Text, nullable=False),  # what a person (or the hub) should do about it
    Column("resolution", String(32)),  # imported | write_back_queued | already_repaired | None: left to a person
    Column("detail", JSON, nullable=False),
)
Index("ix_reconcile_items_run", reconcile_items.c.run_id, reconcile_items.c.id)

reconcile_repairs = Table(
    "reconcile_repairs",
    metadata,
    Column("subject", String(255), primary_key=True),  # a refund id, or gateway:<account>:<refund id>
    Column("action", String(32), primary_key=True),  # import | write_back
    Column("run_id", String(32), nullable=False),
    Column("at", Timestamp, nullable=False),
)

export_files = Table(
    "export_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector", String(64), nullable=False),
    Column("store_id", String(255), nullable=False),
    Column("period", String(7), nullable=False),  # YYYY-MM
    Column("path", Text, nullable=False),  # under the instance path
    Column("rows", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("connector", "store_id", "period", name="uq_export_files_store_period"),
)
