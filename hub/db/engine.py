"""Engines for the embedded default (SQLite, WAL, synchronous=FULL) and PostgreSQL.

SQLite write transactions start with ``BEGIN IMMEDIATE`` so a read-then-write never fails
halfway with SQLITE_BUSY; reads opt into ``BEGIN DEFERRED`` with ``reading(conn)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from hub.db.writelock import QueuedWriterConnection

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",  # a 2xx to a platform means it will not resend: survive power loss
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and the pragmas above."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "factory": QueuedWriterConnection},
            pool_size=20,
            max_overflow=20,
            **options,
        )
        _setup_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("psycopg2", "postgresql", ""):
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True, **options)


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        begin_sqlite(
            conn.connection.dbapi_connection,
            conn.connection.info,
            recoverable=bool(options.get("recoverable")),
            mode=options.get("sqlite_begin", "IMMEDIATE"),
        )


def begin_sqlite(
    dbapi_connection: Any, info: dict[Any, Any], recoverable: bool = False, mode: str = "IMMEDIATE"
) -> None:
    """Start a SQLite transaction: ``synchronous`` for its durability (a pragma only when the
    mode changes; ``info`` lives as long as the DBAPI connection), then, for a writer, a place
    in the host's writer queue (``hub.db.writelock``) and ``BEGIN IMMEDIATE``."""
    sync = "NORMAL" if recoverable else "FULL"
    if mode == "IMMEDIATE" and info.get("synchronous", "FULL") != sync:  # a reader commits nothing
        dbapi_connection.execute(f"PRAGMA synchronous={sync}")
        info["synchronous"] = sync
    if mode == "IMMEDIATE" and isinstance(dbapi_connection, QueuedWriterConnection):
        dbapi_connection.acquire_writer()
    try:
        dbapi_connection.execute(f"BEGIN {mode}")
    except BaseException:
        if isinstance(dbapi_connection, QueuedWriterConnection):
            dbapi_connection.release_writer()
        raise


@contextmanager
def recoverable(engine: Engine) -> Iterator[Connection]:
    """A write transaction whose loss in a crash the hub repairs by itself, so it need not wait
    for the disk: SQLite ``synchronous=NORMAL`` (WAL: durable at the next checkpoint or FULL
    commit), PostgreSQL ``synchronous_commit=off``. Worker bookkeeping uses it; webhook ingest
    and the claim made before a gateway call never do (invariants 1 and 4).
    """
    with engine.connect() as conn:
        conn = conn.execution_options(recoverable=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO off")
            yield conn


def make_durable(conn: Connection) -> None:
    """Make a ``recoverable`` transaction's commit wait for the disk after all, once it turned out
    to carry something a crash must not lose (a refund claimed before its gateway call)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO on")
    elif conn.get_execution_options().get("recoverable"):
        dbapi_connection = conn.connection.dbapi_connection
        if not isinstance(dbapi_connection, QueuedWriterConnection):
            raise RuntimeError("a recoverable SQLite transaction cannot be made durable on this connection")
        dbapi_connection.sync_wal_after_commit()


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction that does not take SQLite's write lock."""
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="DEFERRED")
        yield conn
