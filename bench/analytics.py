"""The console's analytics pages at a million refunds, and a full CSV export of them, on SQLite and
PostgreSQL: p50/p95 of each page against the sign-in page (no ledger read) measured in the same
run, and the export's peak memory growth against the process before it.

The ledger is ``bench/console.py``'s (its seeding, reused: 20 stores, a year of history, an
approver granted 10 of them, so every query carries the tenancy clause), with what analytics
reads that the console bench does not need: the time money moved, four routes, policy rules
(an abuse signal among them) on a quarter of the decisions, a fifth of the denied and paid refunds
decided by a person (and their ``reviewed`` audit entries), and customer feedback on one refund in
ten. PostgreSQL runs in a private schema of database ``test`` on 127.0.0.1, dropped afterwards.

Pages, each ``--requests`` times through the real app (Flask's WSGI client: session, the queries,
the charts, Jinja; no network):

  baseline            GET /login
  overview 30 d       GET /analytics?since&until — trend, money per currency, refund rate
  reasons 30 d        GET /analytics/reasons — reasons, products (the lines' JSON)
  channels 30 d       GET /analytics/channels — by platform, gateway, store
  operations 30 d     GET /analytics/operations — time to money, review, rules, fraud, feedback
  overview 1 store 90 d, operations 1 store 90 d — one store, a quarter
  csv trend 30 d      GET /analytics/csv/trend.csv

Then ``GET /api/exports/refunds.csv`` of every refund (the operator token: all 20 stores), read
chunk by chunk as a client would, the process's resident memory sampled as it goes.

Exits 1 when a page's p95 is over ``--limit`` (300 ms) or the export's memory grew by more than
``--memory-limit`` MB. Usage:

    .venv/bin/python bench/analytics.py [--refunds 1000000] [--requests 100] [--databases sqlite,postgres]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, and_, case, insert, literal, select, text  # noqa: E402

from bench import console as ledger  # noqa: E402 - the console bench's seeding, reused
from hub.db.engine import make_engine  # noqa: E402
from hub.db.migrate import upgrade  # noqa: E402
from hub.db.tables import audit, refunds  # noqa: E402
from hub.db.tables_customer import feedback  # noqa: E402
from hub.ledger.unit import refresh_statistics  # noqa: E402
from hub.testing.harness import HubHarness  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ROUTES = ("gateway:stripe-main", "gateway:paypal-main", "gateway:square-main", "platform")
RULES = (("window.physical", "approve", 0.25), ("abuse.velocity.email", "review", 0.03))
PAID = ("written_back", "succeeded")


def analytics_rows(plain: Callable[..., Iterator[dict[str, Any]]]) -> Callable[..., Iterator[dict[str, Any]]]:
    """The console bench's rows with what analytics reads besides (the module's words)."""

    def rows(rng: random.Random, start: int, count: int) -> Iterator[dict[str, Any]]:
        extra = random.Random(start)
        for row in plain(rng, start, count):
            moved = row["state"] in PAID
            row["executed_at"] = row["created_at"] + timedelta(seconds=extra.randint(5, 86_400)) if moved else None
            row["route"] = ROUTES[extra.randrange(len(ROUTES))]
            decision = row["decision"]["decision"]
            decision["rules"] = [{"rule": rule, "effect": effect, "detail": ""}
                                 for rule, effect, share in RULES if extra.random() < share]  # fmt: skip
            if row["state"] == "denied":
                decision["action"] = "deny"
            if row["state"] == "review" or (row["state"] in (*PAID, "denied") and extra.random() < 0.2):
                decision["action"] = "review"
            yield row

    return rows


def seed(engine: Engine, total: int) -> float:
    """The console bench's ledger with analytics' extras; seconds taken."""
    began = time.perf_counter()
    plain = ledger.refund_rows
    ledger.refund_rows = analytics_rows(plain)
    try:
        ledger.seed(engine, total)
    finally:
        ledger.refund_rows = plain
    r = refunds.c
    with engine.begin() as conn:
        reviewed = select(r.id, r.state, r.created_at).where(
            r.decision[("decision", "action")].as_string() == "review", r.state.in_((*PAID, "denied"))
        )
        batch = []
        for n, (refund_id, state, created) in enumerate(conn.execute(reviewed)):
            batch.append({"at": created + timedelta(hours=1), "refund_id": refund_id,
                          "actor": f"user:reviewer{n % 7}@example.com", "action": "reviewed",
                          "detail": {"state": "denied" if state == "denied" else "approved"}})  # fmt: skip
        for start in range(0, len(batch), ledger.BATCH):
            conn.execute(insert(audit), batch[start : start + ledger.BATCH])
        answered = select(
            r.id, literal(1) + r.amount % 5, literal(""), case((r.amount % 3 == 0, "damaged"), else_=None), r.created_at
        ).where(and_(r.amount % 10 == 0, r.state.in_(PAID)))
        conn.execute(insert(feedback).from_select(["refund_id", "rating", "comment", "reason", "created_at"], answered))
    return time.perf_counter() - began


def rss_mb() -> float:
    """This process's resident memory now (Linux ``/proc``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def export(client: Any, most: int) -> dict[str, float]:
    """Every refund as CSV through the API (or its first ``most`` rows), read as a client reads a
    stream; progress every 100 000 rows."""
    before = peak = rss_mb()
    began = time.perf_counter()
    answer = client.get("/api/exports/refunds.csv", headers={"Authorization": "Bearer test-admin-token"},
                        buffered=False)  # fmt: skip
    assert answer.status_code == 200, answer.status_code
    size = lines = 0
    first = None
    for chunks, chunk in enumerate(answer.iter_encoded(), start=1):
        if first is None:
            first = time.perf_counter() - began
        size += len(chunk)
        lines += chunk.count(b"\r\n")
        if chunks % 200 == 0:
            peak = max(peak, rss_mb())
        if lines // 100_000 != (lines - chunk.count(b"\r\n")) // 100_000:
            print(f"  exported {lines:,} rows ({time.perf_counter() - began:.0f} s, {rss_mb():.0f} MB)", flush=True)
        if most and lines > most:
            break
    answer.close()
    peak = max(peak, rss_mb())
    return {"seconds": time.perf_counter() - began, "first_byte": first or 0.0, "mb": size / 2**20,
            "rows": lines - 1, "before": before, "peak": peak}  # fmt: skip


def run(label: str, engine: Engine, args: argparse.Namespace, folder: Path) -> bool:
    upgrade(engine)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the harness migrates again: no replay of the log
    if not args.reuse_schema:
        took = seed(engine, args.refunds)
        refresh_statistics(engine)  # what the janitor's statistics duty keeps fresh in a running hub
        if engine.dialect.name == "postgresql":  # as autovacuum after a bulk insert: index-only scans see the rows
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE) refunds")
        print(f"{label}: {args.refunds:,} refunds seeded in {took:.0f} s", flush=True)
    harness = HubHarness(
        folder / label,
        engine=engine,
        connectors={"sandbox": {"webhook_secret": "bench"}},
        stores={store: {"connector": "sandbox", "policy": "default"} for store in ledger.STORES},
        policies={"default": {}},
    )
    try:
        client = ledger.signed_in(harness)
        anonymous = harness.app.test_client()
        until = ledger.NOW.date()
        month = {"since": (until - timedelta(days=29)).isoformat(), "until": until.isoformat()}
        quarter = {"since": (until - timedelta(days=89)).isoformat(), "until": until.isoformat()}
        rng = random.Random(3)

        def one_store() -> dict[str, str]:
            return {**quarter, "store": f"sandbox:{rng.choice(ledger.GRANTED)}"}

        pages: list[tuple[str, Callable[[], Any]]] = [
            ("baseline GET /login", lambda: anonymous.get("/login")),
            ("overview 30 d", lambda: client.get("/analytics", query_string=month)),
            ("reasons 30 d", lambda: client.get("/analytics/reasons", query_string=month)),
            ("channels 30 d", lambda: client.get("/analytics/channels", query_string=month)),
            ("operations 30 d", lambda: client.get("/analytics/operations", query_string=month)),
            ("overview 1 store 90 d", lambda: client.get("/analytics", query_string=one_store())),
            ("reasons 1 store 90 d", lambda: client.get("/analytics/reasons", query_string=one_store())),
            ("operations 1 store 90 d", lambda: client.get("/analytics/operations", query_string=one_store())),
            ("csv trend 30 d", lambda: client.get("/analytics/csv/trend.csv", query_string=month)),
        ]
        timings = [(name, ledger.timed(get, args.requests)) for name, get in pages]
        failed = report_pages(label, args, timings)
        return report_export(args, export(client, args.export_rows)) or failed
    finally:
        harness.close()


def private_schema(reuse: str | None) -> tuple[Engine, Callable[[], None]]:
    """An engine in a fresh schema of database ``test``, and what drops it (``reuse``: a schema
    an earlier run seeded, kept)."""
    schema = reuse or f"bench_analytics_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    if reuse:
        return make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"}), admin.dispose
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})

    def drop() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return engine, drop


def report_pages(label: str, args: argparse.Namespace, timings: list[Any]) -> bool:
    base = ledger.p95(timings[0][1])
    print(f"\n{label}, {args.refunds:,} refunds, {args.requests} requests per page")
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95/baseline':>13}")
    failed = False
    for name, values in timings:
        over = name != timings[0][0] and ledger.p95(values) > args.limit
        failed |= over
        print(f"{name:28} {statistics.median(values):8.1f} {ledger.p95(values):8.1f} {max(values):8.1f}"
              f" {ledger.p95(values) / base:13.1f}{'  OVER' if over else ''}")  # fmt: skip
    sys.stdout.flush()
    return failed


def report_export(args: argparse.Namespace, exported: dict[str, float]) -> bool:
    growth = exported["peak"] - exported["before"]
    heavy = growth > args.memory_limit
    mark = "  OVER" if heavy else ""
    print(f"export: {exported['rows']:,.0f} CSV rows, {exported['mb']:.0f} MB in {exported['seconds']:.0f} s "
          f"(first byte after {exported['first_byte'] * 1000:.0f} ms); resident memory {exported['before']:.0f} MB "
          f"before, {exported['peak']:.0f} MB at most during it: +{growth:.0f} MB{mark}", flush=True)  # fmt: skip
    return heavy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refunds", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--limit", type=float, default=300.0, help="p95 ms every page must stay under")
    parser.add_argument("--memory-limit", type=float, default=64.0, help="MB the export may grow the process by")
    parser.add_argument("--export-rows", type=int, default=0, help="stop the export after this many rows (0: all)")
    parser.add_argument("--reuse-schema", help="PostgreSQL: measure this schema an earlier run seeded (kept)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rh-bench-analytics-"))
    failed = False
    for label in [name.strip() for name in args.databases.split(",") if name.strip()]:
        drop: Callable[[], None] = lambda: None  # noqa: E731
        if label == "sqlite":
            engine = make_engine(f"sqlite:///{folder / 'hub.db'}")
        else:
            engine, drop = private_schema(args.reuse_schema)
        try:
            failed |= run(label, engine, args, folder)
        finally:
            engine.dispose()
            drop()
    verdict = f"every page p95 <= {args.limit:.0f} ms, the export within +{args.memory_limit:.0f} MB"
    print(f"\n{'FAIL' if failed else 'PASS'}: {verdict}" + (" (not met)" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
