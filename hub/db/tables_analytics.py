"""The analytics rollup (``hub.ledger.analytics_rollup``): the figures of each store and day, so a
page over a million refunds adds a few thousand rows instead of reading and parsing every refund.

``analytics_daily`` holds, per figure, store and day (UTC, ``YYYY-MM-DD``), the figure's keys (a
reason, a SKU, a rule…; ``''`` where a figure has fewer) and its sums. ``analytics_dirty`` is the
log of the store-days whose refunds changed since their rollup was built: database triggers on
``refunds``, ``audit`` (``reviewed`` entries) and ``feedback`` append to it in the transaction of
the change itself, whatever code made it (migration 0017). A store-day in the log is read from the
ledger, never from its rollup, until the ``analytics`` duty has built it again.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from hub.db.tables import metadata

KEYS = ("key_1", "key_2", "key_3", "key_4")
VALUES = ("value_1", "value_2", "value_3", "value_4", "value_5")

analytics_daily = Table(
    "analytics_daily",
    metadata,
    Column("figure", String(16), nullable=False),
    Column("connector", String(64), nullable=False),
    Column("store_id", String(255), nullable=False),
    Column("day", String(10), nullable=False),
    *(Column(name, Text, nullable=False, default="") for name in KEYS),
    *(Column(name, BigInteger, nullable=False, default=0) for name in VALUES),
    # unique per figure, store, day and keys: a rebuild that raced another fails instead of counting twice
    PrimaryKeyConstraint("figure", "store_id", "day", "connector", *KEYS, name="pk_analytics_daily"),
)

analytics_dirty = Table(
    "analytics_dirty",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("connector", String(64), nullable=False),
    Column("store_id", String(255), nullable=False),
    Column("day", String(10), nullable=False),
)
Index("ix_analytics_dirty_store_day", analytics_dirty.c.store_id, analytics_dirty.c.day)
