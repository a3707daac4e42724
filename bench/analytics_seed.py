"""The analytics bench's ledger, written in bulk: ``bench/console.py``'s refunds (20 stores, a year)
with what analytics reads besides — the time money moved, four routes, policy rules (an abuse
signal among them) on a quarter of the decisions, a fifth of the denied and paid refunds decided by
a person with their ``reviewed`` audit entries, customer feedback on one refund in ten — and the
console's audit trail of four entries on every tenth refund.

Fast because it is a load, not a workload: the refunds' secondary indexes are dropped for the load
and built once at the end (what a restore does), and PostgreSQL takes the rows by ``COPY``; SQLite
by ``executemany`` in large transactions. What it leaves is the schema the migrations made.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert
from sqlalchemy.schema import CreateIndex, DropIndex

from bench import console as ledger  # the console bench's refunds, reused
from hub.db.tables import audit, refunds
from hub.db.tables_customer import feedback

ROUTES = ("gateway:stripe-main", "gateway:paypal-main", "gateway:square-main", "platform")
RULES = (("window.physical", "approve", 0.25), ("abuse.velocity.email", "review", 0.03))
PAID = ("written_back", "succeeded")
BATCH = 50_000
TRAIL = (("ingest", "received"), ("policy", "decided"), ("worker", "executed"), ("worker", "written_back"))


def analytics_rows(rng: random.Random, start: int, count: int) -> Iterator[dict[str, Any]]:
    """The console bench's rows with what analytics reads besides (the module's words)."""
    extra = random.Random(start)
    for row in ledger.refund_rows(rng, start, count):
        moved = row["state"] in PAID
        row["executed_at"] = row["created_at"] + timedelta(seconds=extra.randint(5, 86_400)) if moved else None
        row["route"] = ROUTES[extra.randrange(len(ROUTES))]
        row["parent_id"] = None
        decision = row["decision"]["decision"]
        decision["rules"] = [{"rule": rule, "effect": effect, "detail": ""}
                             for rule, effect, share in RULES if extra.random() < share]  # fmt: skip
        if row["state"] == "denied":
            decision["action"] = "deny"
        if row["state"] == "review" or (row["state"] in (*PAID, "denied") and extra.random() < 0.2):
            decision["action"] = "review"
        yield row


def trail_of(rows: Sequence[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    """The console's four entries on every tenth refund, and a ``reviewed`` entry on each refund a
    person decided (seven reviewers in turn)."""
    entries = [
        {"at": row["created_at"] + timedelta(seconds=s), "refund_id": row["id"], "actor": actor, "action": action,
         "detail": {"state": action}}
        for row in rows[::10]
        for s, (actor, action) in enumerate(TRAIL)
    ]  # fmt: skip
    for n, row in enumerate(rows, start=start):
        if row["decision"]["decision"]["action"] == "review" and row["state"] in (*PAID, "denied"):
            verdict = "denied" if row["state"] == "denied" else "approved"
            entries.append({"at": row["created_at"] + timedelta(hours=1), "refund_id": row["id"],
                            "actor": f"user:reviewer{n % 7}@example.com", "action": "reviewed",
                            "detail": {"state": verdict}})  # fmt: skip
    return entries


def answers_of(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feedback on the paid refunds whose amount ends in 0: a rating from the amount, a third
    of them correcting the reason."""
    return [
        {"refund_id": row["id"], "rating": 1 + row["amount"] % 5, "comment": "",
         "reason": "damaged" if row["amount"] % 3 == 0 else None, "detail": None, "created_at": row["created_at"]}
        for row in rows
        if row["amount"] % 10 == 0 and row["state"] in PAID
    ]  # fmt: skip


def copy_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``rows`` into ``table`` by PostgreSQL's ``COPY`` (JSON columns as their text)."""
    if not rows:
        return
    names = list(rows[0])
    documents = {name for name in names if table.c[name].type.__class__.__name__ == "JSON"}
    dbapi: Any = conn.connection.dbapi_connection
    with dbapi.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[n]) if n in documents and row[n] is not None else row[n] for n in names])


def load(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table, rows)
    elif rows:
        conn.execute(insert(table), rows)


@contextmanager
def indexes_built_after(engine: Engine, table: Table) -> Iterator[None]:
    """The table's secondary indexes dropped for the load and built again after it."""
    with engine.begin() as conn:
        for index in table.indexes:
            conn.execute(DropIndex(index, if_exists=True))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for index in table.indexes:
                conn.execute(CreateIndex(index, if_not_exists=True))


def seed(engine: Engine, total: int, progress: Callable[[str], None] = print) -> float:
    """``total`` refunds with their trail and feedback; seconds taken."""
    rng = random.Random(7)
    began = time.perf_counter()
    with indexes_built_after(engine, refunds):
        for start in range(0, total, BATCH):
            rows = list(analytics_rows(rng, start, min(BATCH, total - start)))
            with engine.begin() as conn:
                load(conn, refunds, rows)
                load(conn, audit, trail_of(rows, start))
                load(conn, feedback, answers_of(rows))
            if start and start % 200_000 == 0:
                progress(f"  seeded {start:,} refunds ({time.perf_counter() - began:.0f} s)")
        progress(f"  loaded {total:,} refunds ({time.perf_counter() - began:.0f} s); building the indexes")
    return time.perf_counter() - began
