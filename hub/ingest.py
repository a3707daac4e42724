"""The webhook hot path after verification: store the raw delivery and its job in one transaction.

Nothing here parses the body or calls out: a 2xx means the delivery is durable (SQLite
``synchronous=FULL``, PostgreSQL ``synchronous_commit=on``) and its job is in the outbox.
A repeated dedupe key is acknowledged and does nothing.

The statements are SQLAlchemy's, compiled once per dialect and run on the DBAPI cursor: on this
path SQLAlchemy's per-execution machinery cost more CPU than SQLite's insert and fsync
together (bench/ingest.py), and everything else in the hub keeps using SQLAlchemy Core.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from hub.contracts import Inbound, Verified
from hub.db.engine import begin_sqlite
from hub.db.tables import deliveries, jobs
from hub.errors import StorageUnavailable
from hub.work.jobs import DELIVERY, READY

RECEIVED, DONE, IGNORED, DEAD, ACK = "received", "done", "ignored", "dead", "ack"
KEPT_HEADERS_MAX = 64


@dataclass(frozen=True)
class Receipt:
    delivery_id: str
    duplicate: bool


@dataclass(frozen=True)
class Arrival:
    """One verified delivery waiting to be stored."""

    source: str
    verified: Verified
    inbound: Inbound


def new_delivery_id() -> str:
    """32 hex digits that sort by arrival: nanoseconds, then 64 random bits. New rows land at
    the end of the primary-key index instead of on a random page of it."""
    return f"{time.time_ns():016x}{os.urandom(8).hex()}"


class _Compiled:
    """A statement compiled for one dialect: SQL text, parameter order and bind processors."""

    def __init__(self, dialect: Dialect, statement: ClauseElement, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self._order = list(compiled.positiontup or []) if compiled.positional else None
        self._processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }

    def params(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        processed = {
            key: (self._processors[key](value) if key in self._processors else value) for key, value in values.items()
        }
        return processed if self._order is None else tuple(processed[name] for name in self._order)


class DeliveryWriter:
    """Stores a batch of arrivals in ONE transaction (the caller groups concurrent requests)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        upsert = (postgresql if dialect.name == "postgresql" else sqlite).insert(deliveries)
        delivery_keys = [c.key for c in deliveries.columns if c.key not in ("error", "processed_at")]
        self._delivery = _Compiled(
            dialect,
            upsert.on_conflict_do_nothing(index_elements=["connector", "dedupe_key"]).returning(deliveries.c.id),
            delivery_keys,
        )
        self._job = _Compiled(
            dialect, insert(jobs), ["kind", "subject_id", "state", "run_after", "attempts", "created_at"]
        )
        existing = select(deliveries.c.id).where(
            deliveries.c.connector == bindparam("connector"), deliveries.c.dedupe_key == bindparam("dedupe_key")
        )
        self._existing = _Compiled(dialect, existing, [])

    def write(self, arrivals: Sequence[Arrival]) -> list[Receipt]:
        """Store every arrival or none; ``StorageUnavailable`` if the database refuses."""
        try:
            return self._write(arrivals)
        except (SQLAlchemyError, self.engine.dialect.loaded_dbapi.Error) as exc:
            raise StorageUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _write(self, arrivals: Sequence[Arrival]) -> list[Receipt]:
        raw = self.engine.raw_connection()
        try:
            if self.engine.dialect.name == "sqlite":
                begin_sqlite(raw.dbapi_connection, raw.info)
            cursor = raw.cursor()
            try:
                receipts = [self._store(cursor, arrival) for arrival in arrivals]
            finally:
                cursor.close()
            raw.commit()
            return receipts
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()  # back to the pool

    def _store(self, cursor: Any, arrival: Arrival) -> Receipt:
        verified, inbound = arrival.verified, arrival.inbound
        delivery_id = new_delivery_id()
        now = datetime.now(UTC)
        headers = dict(islice(inbound.headers.items(), KEPT_HEADERS_MAX))
        cursor.execute(
            self._delivery.sql,
            self._delivery.params(
                {
                    "id": delivery_id,
                    "connector": arrival.source,
                    "store_id": verified.store_id,
                    "topic": verified.topic,
                    "dedupe_key": verified.dedupe_key,
                    "headers": headers,
                    "body": inbound.body,
                    "received_at": now,
                    "status": ACK if verified.ack_only else RECEIVED,
                }
            ),
        )
        if cursor.fetchone() is None:
            cursor.execute(
                self._existing.sql,
                self._existing.params({"connector": arrival.source, "dedupe_key": verified.dedupe_key}),
            )
            return Receipt(cursor.fetchone()[0], duplicate=True)
        if not verified.ack_only:
            cursor.execute(
                self._job.sql,
                self._job.params(
                    {
                        "kind": DELIVERY,
                        "subject_id": delivery_id,
                        "state": READY,
                        "run_after": now,
                        "attempts": 0,
                        "created_at": now,
                    }
                ),
            )
        return Receipt(delivery_id, duplicate=False)


_writers: weakref.WeakKeyDictionary[Engine, DeliveryWriter] = weakref.WeakKeyDictionary()


def writer_for(engine: Engine) -> DeliveryWriter:
    if engine not in _writers:
        _writers[engine] = DeliveryWriter(engine)
    return _writers[engine]


def receive(engine: Engine, source: str, verified: Verified, inbound: Inbound) -> Receipt:
    """Store one delivery in its own transaction (the web tier batches through ``Intake``)."""
    return writer_for(engine).write([Arrival(source, verified, inbound)])[0]
