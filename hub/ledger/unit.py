"""Transactions over the ledger: every pipeline step, view and command runs its reads and
writes inside one of these, and reaches tables only through the ledger's functions.

``write`` is the worker's bookkeeping transaction (recoverable: a crash loses nothing the hub
cannot repair by itself); ``durable`` marks one that must survive a crash (a claim before a
gateway call); ``read`` never takes SQLite's write lock.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from hub.db.engine import make_durable as durable
from hub.db.engine import make_engine
from hub.db.engine import reading as read
from hub.db.engine import recoverable as write
from hub.db.migrate import upgrade

Unit = Connection  # what the ledger's functions take: one open transaction

__all__ = [
    "Engine",
    "TransientStorageError",
    "Unit",
    "durable",
    "open_database",
    "ping",
    "read",
    "refresh_statistics",
    "write",
]


def open_database(url: str, *, migrate: bool = False) -> Engine:
    """The engine for ``url``; ``migrate`` brings its schema up to date first."""
    engine = make_engine(url)
    if migrate:
        upgrade(engine)
    return engine


def ping(engine: Engine) -> None:
    """Raise unless the database answers a trivial query."""
    with read(engine) as conn:
        conn.execute(text("SELECT 1"))


def refresh_statistics(engine: Engine) -> bool:
    """The query planner's statistics, refreshed (``ANALYZE`` over a sample: milliseconds on SQLite,
    about a second on PostgreSQL at a million rows). Without them the planner guesses, and at scale it
    guesses an index that reads half the ledger for a page of fifty; PostgreSQL's autovacuum gets
    there too, but only some time after a bulk import (a backfill). On PostgreSQL only the tables of
    the hub's schema: the other schemas of a shared database are not the hub's to analyze."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE")
        else:
            found = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
            names = ", ".join(conn.dialect.identifier_preparer.quote(name) for (name,) in found)
            if names:
                conn.exec_driver_sql(f"ANALYZE {names}")
    return True


TransientStorageError = OperationalError
"""The database was busy or the connection dropped: the work is retried, nothing is lost."""
