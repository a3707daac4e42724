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
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, func, select, text  # noqa: E402

from bench import console as ledger  # noqa: E402 - the console bench's stores, sign-in and timing, reused
from bench.analytics_seed import seed  # noqa: E402
from hub.db.engine import make_engine  # noqa: E402
from hub.db.migrate import upgrade  # noqa: E402
from hub.db.tables import refunds  # noqa: E402
from hub.ledger import analytics_rollup  # noqa: E402
from hub.ledger.unit import refresh_statistics  # noqa: E402
from hub.testing.harness import HubHarness  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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


def prepare(label: str, engine: Engine, args: argparse.Namespace) -> None:
    """The schema brought up to date, and the ledger seeded unless it holds refunds already (a
    reused file or schema: the seed is the same for the same ``--refunds``)."""
    upgrade(engine)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the harness migrates again: no replay of the log
    with engine.connect() as conn:
        held = conn.execute(select(func.count()).select_from(refunds)).scalar_one()
    if held:
        print(f"{label}: reusing {held:,} refunds", flush=True)
        return
    took = seed(engine, args.refunds, lambda line: print(line, flush=True))
    refresh_statistics(engine)  # what the janitor's statistics duty keeps fresh in a running hub
    if engine.dialect.name == "postgresql":  # as autovacuum after a bulk insert: index-only scans see the rows
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE)")
    print(f"{label}: {args.refunds:,} refunds seeded in {took:.0f} s", flush=True)


def build_rollup(label: str, engine: Engine) -> None:
    """What the janitor's ``analytics`` duty does in a running hub, run here until the log is empty."""
    began, rebuilt = time.perf_counter(), 0
    while found := analytics_rollup.refresh(engine, seconds=600):
        rebuilt += found
    print(f"{label}: rollup of {rebuilt:,} store-days built in {time.perf_counter() - began:.0f} s", flush=True)


def run(label: str, engine: Engine, args: argparse.Namespace, folder: Path) -> bool:
    prepare(label, engine, args)
    build_rollup(label, engine)
    if args.seed_only:
        return False
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


def private_schema(name: str | None, keep: bool) -> tuple[Engine, Callable[[], None]]:
    """An engine in schema ``name`` of database ``test`` (a fresh one without it), and what ends
    it: the schema dropped, unless it was given or ``keep``."""
    schema = name or f"bench_analytics_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    print(f"postgres: schema {schema}" + (" (kept)" if name or keep else ""), flush=True)

    def drop() -> None:
        engine.dispose()
        if not (name or keep):
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
    parser.add_argument("--reuse-schema", help="PostgreSQL: this schema (seeded by an earlier run, else now; kept)")
    parser.add_argument("--sqlite-file", type=Path, help="SQLite: this file (seeded by an earlier run, else now; kept)")
    parser.add_argument("--keep", action="store_true", help="keep the fresh PostgreSQL schema for --reuse-schema")
    parser.add_argument("--seed-only", action="store_true", help="seed (or reuse) and stop: no pages measured")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rh-bench-analytics-"))
    failed = False
    for label in [name.strip() for name in args.databases.split(",") if name.strip()]:
        drop: Callable[[], None] = lambda: None  # noqa: E731
        if label == "sqlite":
            engine = make_engine(f"sqlite:///{args.sqlite_file or folder / 'hub.db'}")
        else:
            engine, drop = private_schema(args.reuse_schema, args.keep)
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
