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
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Protocol

from sqlalchemy import Engine, bindparam, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from hub.contracts import Inbound, Verified
from hub.db.engine import begin_sqlite
from hub.db.tables import deliveries, jobs
from hub.db.upsert import insert_ignore_statement
from hub.errors import StorageUnavailable
from hub.ledger.deliveries import ACK, RECEIVED
from hub.ledger.outbox import DELIVERY, READY

KEPT_HEADERS_MAX = 64


@dataclass(frozen=True)
class Receipt:
    delivery_id: str
    duplicate: bool
    woken: bool = False  # a worker was (or will be) woken for it by whoever stored it


@dataclass(frozen=True)
class Arrival:
    """One verified delivery waiting to be stored."""

    source: str
    verified: Verified
    inbound: Inbound


def storable(text: str) -> str:
    """``text`` as valid UTF-8: lone surrogates (legal in JSON, not in UTF-8) become escapes."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


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
        processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()
        }
        self._positional = bool(compiled.positional)
        names = list(compiled.positiontup or []) if compiled.positional else list(processors)
        self._plan = [(name, processors.get(name)) for name in names]

    def params(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        processed = [(name, values[name] if convert is None else convert(values[name])) for name, convert in self._plan]
        return tuple(value for _, value in processed) if self._positional else dict(processed)


class DeliveryWriter:
    """Stores a batch of arrivals in ONE transaction (the caller groups concurrent requests)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()  # one batch at a time on the held connection
        self._raw: Any = None
        dialect = engine.dialect
        delivery_keys = [c.key for c in deliveries.columns if c.key not in ("error", "processed_at")]
        self._delivery = _Compiled(
            dialect,
            insert_ignore_statement(dialect.name, deliveries, ("connector", "store_id", "dedupe_key")),
            delivery_keys,
        )
        self._job = _Compiled(
            dialect, insert(jobs), ["kind", "subject_id", "state", "run_after", "attempts", "created_at"]
        )
        existing = select(deliveries.c.id).where(
            deliveries.c.connector == bindparam("connector"),
            deliveries.c.store_id == bindparam("store_id"),
            deliveries.c.dedupe_key == bindparam("dedupe_key"),
        )
        self._existing = _Compiled(dialect, existing, [])

    def write(self, arrivals: Sequence[Arrival]) -> list[Receipt]:
        """Store every arrival or none; ``StorageUnavailable`` if the database refuses."""
        try:
            with self._lock:
                try:
                    return self._write(arrivals)
                except self.engine.dialect.loaded_dbapi.Error as exc:
                    if not self._dropped(exc):
                        raise
                    return self._write(arrivals)  # the held connection had died (a restart): once more, anew
        except (SQLAlchemyError, self.engine.dialect.loaded_dbapi.Error) as exc:
            raise StorageUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _write(self, arrivals: Sequence[Arrival]) -> list[Receipt]:
        raw = self._connection()
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
            try:
                raw.rollback()
            except Exception:  # noqa: BLE001 - the rollback of a broken connection: drop it, raise the first error
                self._forget(raw)
            raise

    def _connection(self) -> Any:
        """The writer's connection, kept between batches: a pool checkout (and on PostgreSQL its
        pre-ping round trip) for every delivery cost more than the insert."""
        if self._raw is None:
            self._raw = self.engine.raw_connection()
        return self._raw

    def _dropped(self, exc: BaseException) -> bool:
        """Was the held connection lost (say, a database restart)? Then it is forgotten. Nothing
        of the batch was committed, or a retry finds its rows as duplicates: nothing doubles."""
        raw = self._raw
        if raw is None:
            return True  # even its rollback failed: forgotten already
        if self.engine.dialect.is_disconnect(exc, raw.dbapi_connection, None):  # type: ignore[arg-type]
            self._forget(raw)
            return True
        return False

    def close(self) -> None:
        """Hand the held connection back to the pool."""
        with self._lock:
            raw, self._raw = self._raw, None
        if raw is not None:
            raw.close()

    def _forget(self, raw: Any) -> None:
        self._raw = None
        raw.invalidate()

    def _store(self, cursor: Any, arrival: Arrival) -> Receipt:
        verified, inbound = arrival.verified, arrival.inbound
        # a signed body may carry text no database can store (a lone surrogate): escaped, it
        # stays this delivery's own key instead of failing everyone's batch
        store_id, topic = storable(verified.store_id), storable(verified.topic)
        dedupe_key = storable(verified.dedupe_key)
        delivery_id = new_delivery_id()
        now = datetime.now(UTC)
        headers = dict(islice(inbound.headers.items(), KEPT_HEADERS_MAX))
        cursor.execute(
            self._delivery.sql,
            self._delivery.params(
                {
                    "id": delivery_id,
                    "connector": arrival.source,
                    "store_id": store_id,
                    "topic": topic,
                    "dedupe_key": dedupe_key,
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
                self._existing.params({"connector": arrival.source, "store_id": store_id, "dedupe_key": dedupe_key}),
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


class Writer(Protocol):
    """What ``Intake`` stores through: a ``DeliveryWriter`` or the ingest service's client."""

    def write(self, arrivals: Sequence[Arrival]) -> list[Receipt]: ...

    def close(self) -> None: ...


def receive(engine: Engine, source: str, verified: Verified, inbound: Inbound) -> Receipt:
    """Store one delivery in its own transaction (the web tier batches through ``Intake``)."""
    writer = DeliveryWriter(engine)
    try:
        return writer.write([Arrival(source, verified, inbound)])[0]
    finally:
        writer.close()
