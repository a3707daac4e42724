"""The webhook hot path after verification: store the raw delivery and its job in one transaction.

Nothing here parses the body or calls out: a 2xx means the delivery is durable (SQLite
``synchronous=FULL``, PostgreSQL ``synchronous_commit=on``) and its job is in the outbox.
A repeated dedupe key is acknowledged and does nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from hub.contracts import Inbound, Verified
from hub.db.tables import deliveries
from hub.db.upsert import insert_ignore
from hub.work import jobs

RECEIVED, DONE, IGNORED, DEAD, ACK = "received", "done", "ignored", "dead", "ack"
KEPT_HEADERS_MAX = 64


@dataclass(frozen=True)
class Receipt:
    delivery_id: str
    duplicate: bool


def store(conn: Connection, source: str, verified: Verified, inbound: Inbound) -> Receipt:
    """Insert the delivery (and its job unless ``ack_only``) inside the caller's transaction."""
    delivery_id = uuid.uuid4().hex
    headers = dict(list(inbound.headers.items())[:KEPT_HEADERS_MAX])
    inserted = insert_ignore(
        conn,
        deliveries,
        {
            "id": delivery_id,
            "connector": source,
            "store_id": verified.store_id,
            "topic": verified.topic,
            "dedupe_key": verified.dedupe_key,
            "headers": headers,
            "body": inbound.body,
            "received_at": datetime.now(UTC),
            "status": ACK if verified.ack_only else RECEIVED,
        },
        conflict=("connector", "dedupe_key"),
    )
    if not inserted:
        existing = conn.execute(
            select(deliveries.c.id).where(
                deliveries.c.connector == source, deliveries.c.dedupe_key == verified.dedupe_key
            )
        ).scalar_one()
        return Receipt(existing, duplicate=True)
    if not verified.ack_only:
        jobs.add(conn, jobs.DELIVERY, delivery_id)
    return Receipt(delivery_id, duplicate=False)


def receive(engine: Engine, source: str, verified: Verified, inbound: Inbound) -> Receipt:
    with engine.begin() as conn:
        return store(conn, source, verified, inbound)
