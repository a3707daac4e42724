"""A full CSV export of a million refunds, on SQLite and PostgreSQL: how long it takes, whether it
keeps its pace to the last page (each keyset page an index range, not a walk from the newest row),
and whether the process's memory stays flat.

The ledger is ``bench/console.py``'s (its seeding, reused: 20 stores, a year of history, one to
three lines per refund). PostgreSQL runs in a private schema of database ``test`` on 127.0.0.1,
dropped afterwards unless ``--keep``; ``--reuse-schema`` / ``--reuse-sqlite`` export a ledger an
earlier run kept.

Measured in one run, on the same ledger:

  baseline   every refund read by one streamed SELECT (no paging) and formatted with the export's
             own ``rows_of`` and ``csv.writer``: the floor a paged export is compared with
  api all    ``GET /api/exports/refunds.csv`` with the operator token (every store): the pages of
             ``views.refund_search`` on ``(created_at, id)``

For each: seconds, CSV rows and MB, the pace of the first and of the last 100 000 refunds (a keyset
that is not index-driven gets slower page after page), and resident memory before and at most.
Exits 1 when the memory grew by more than ``--memory-limit`` MB or the last 100 000 took more than
``--drift`` times the first. Usage:

    .venv/bin/python bench/export.py [--refunds 1000000] [--databases sqlite,postgres]
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import venv  # noqa: E402

venv.reexec()

from sqlalchemy import Engine, func, select  # noqa: E402

from bench import console as ledger  # noqa: E402 - the console bench's seeding, reused
from bench.analytics import private_schema, rss_mb  # noqa: E402
from hub.db.engine import make_engine  # noqa: E402
from hub.db.migrate import upgrade  # noqa: E402
from hub.db.tables import refunds  # noqa: E402
from hub.ledger import exports  # noqa: E402
from hub.ledger.records import Refund, from_row  # noqa: E402
from hub.ledger.unit import refresh_statistics  # noqa: E402
from hub.testing.harness import HubHarness  # noqa: E402

STEP = 100_000  # refunds per pace sample


class Pace:
    """Seconds per ``STEP`` refunds as they pass, and the peak resident memory."""

    def __init__(self, label: str) -> None:
        self.label, self.began, self.last = label, time.perf_counter(), time.perf_counter()
        self.before = self.peak = rss_mb()
        self.steps: list[float] = []
        self.refunds = self.rows = self.size = 0

    def passed(self, refunds_seen: int, rows: int, size: int) -> None:
        self.rows, self.size = rows, size
        while refunds_seen - self.refunds >= STEP:
            self.refunds += STEP
            now = time.perf_counter()
            self.steps.append(now - self.last)
            self.last = now
            self.peak = max(self.peak, rss_mb())
            print(f"  {self.label}: {self.refunds:,} refunds, {self.rows:,} rows, {now - self.began:.0f} s, "
                  f"{self.peak:.0f} MB", flush=True)  # fmt: skip

    def summary(self) -> dict[str, Any]:
        self.peak = max(self.peak, rss_mb())
        return {"label": self.label, "seconds": time.perf_counter() - self.began, "rows": self.rows,
                "mb": self.size / 2**20, "first": self.steps[0] if self.steps else 0.0,
                "last": self.steps[-1] if self.steps else 0.0, "before": self.before, "peak": self.peak}  # fmt: skip


def baseline(engine: Engine) -> dict[str, Any]:
    """Every top-level refund in one streamed SELECT, newest first, formatted as the export does."""
    pace = Pace("baseline")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    r = refunds.c
    seen = rows = size = 0
    every = select(refunds).where(r.parent_id.is_(None)).order_by(r.created_at.desc(), r.id.desc())
    with engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=exports.PAGE).execute(every):
            for line in exports.rows_of(from_row(Refund, row)):
                writer.writerow(line)
                rows += 1
            seen += 1
            if seen % exports.PAGE == 0:
                size += len(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
                pace.passed(seen, rows, size)
    pace.passed(seen, rows, size + len(buffer.getvalue()))
    return pace.summary()


def streamed(label: str, chunks: Iterable[bytes], most: int) -> dict[str, Any]:
    """Read a CSV answer as a client does; a refund's rows share its id, the first column."""
    pace = Pace(label)
    rows = size = seen = 0
    last_id = b""
    for chunk in chunks:
        size += len(chunk)
        for line in chunk.split(b"\r\n")[:-1]:
            rows += 1
            refund_id = line.split(b",", 1)[0]
            if refund_id != last_id:
                seen, last_id = seen + 1, refund_id
        pace.passed(seen - 1, rows - 1, size)  # less the header
        if most and seen > most:
            break
    return pace.summary()


def api_export(client: Any, label: str, most: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    answer = client.get("/api/exports/refunds.csv", headers=headers or {}, buffered=False)
    assert answer.status_code == 200, answer.status_code
    try:
        return streamed(label, answer.iter_encoded(), most)
    finally:
        answer.close()


def run(label: str, engine: Engine, args: argparse.Namespace, folder: Path, seeded: bool) -> list[dict[str, Any]]:
    upgrade(engine)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the harness migrates again: no replay of the log
    if not seeded:
        took, _ = ledger.seed(engine, args.refunds)
        refresh_statistics(engine)  # what the janitor's statistics duty keeps fresh in a running hub
        if engine.dialect.name == "postgresql":  # as autovacuum after a bulk insert: index-only scans see the rows
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE) refunds")
        print(f"{label}: {args.refunds:,} refunds seeded in {took:.0f} s", flush=True)
    else:
        refresh_statistics(engine)  # the reused ledger may have gained an index since it was seeded
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(refunds)).scalar_one()
        where = conn.execute(select(func.current_schema())).scalar_one() if label == "postgres" else engine.url.database
    print(f"{label}: {total:,} refunds in the ledger ({where})", flush=True)
    harness = HubHarness(
        folder / label,
        engine=engine,
        connectors={"sandbox": {"webhook_secret": "bench"}},
        stores={store: {"connector": "sandbox", "policy": "default"} for store in ledger.STORES},
        policies={"default": {}},
    )
    try:
        found = [baseline(engine)]
        client = harness.app.test_client()
        found.append(api_export(client, "api all", args.rows, {"Authorization": "Bearer test-admin-token"}))
        return found
    finally:
        harness.close()


def report(label: str, found: list[dict[str, Any]], args: argparse.Namespace) -> bool:
    base = found[0]["seconds"]
    print(f"\n{label}, {args.refunds:,} refunds")
    print(f"{'export':11} {'rows':>10} {'MB':>6} {'s':>6} {'÷base':>6} {'first 100k s':>13} {'last 100k s':>12}"
          f" {'RSS before':>11} {'peak':>6}")  # fmt: skip
    failed = False
    for one in found:
        drift = one["last"] / one["first"] if one["first"] else 1.0
        over = one["peak"] - one["before"] > args.memory_limit or drift > args.drift
        failed |= over
        print(f"{one['label']:11} {one['rows']:10,} {one['mb']:6.0f} {one['seconds']:6.0f}"
              f" {one['seconds'] / base:6.2f} {one['first']:13.1f} {one['last']:12.1f}"
              f" {one['before']:9.0f} MB {one['peak']:6.0f}{'  OVER' if over else ''}", flush=True)  # fmt: skip
    return failed


def databases(args: argparse.Namespace, folder: Path) -> Iterator[tuple[str, Engine, bool, Callable[[], None]]]:
    wanted = [name.strip() for name in args.databases.split(",") if name.strip()]
    venv.databases_ready(wanted)
    for label in wanted:
        if label == "sqlite":
            path = Path(args.reuse_sqlite) if args.reuse_sqlite else folder / "hub.db"
            engine = make_engine(f"sqlite:///{path}")
            yield label, engine, bool(args.reuse_sqlite), engine.dispose
        else:
            engine, drop = private_schema(args.reuse_schema, args.keep)
            yield label, engine, bool(args.reuse_schema), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refunds", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--rows", type=int, default=0, help="refunds of the full export (0: all)")
    parser.add_argument("--memory-limit", type=float, default=64.0, help="MB an export may grow the process by")
    parser.add_argument("--drift", type=float, default=2.0, help="last 100k ÷ first 100k an export may reach")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema (its name is printed)")
    parser.add_argument("--reuse-schema", default=None, help="a PostgreSQL schema an earlier --keep run seeded")
    parser.add_argument("--reuse-sqlite", default=None, help="a SQLite file an earlier run seeded")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rh-bench-export-"))
    print(f"working in {folder}", flush=True)
    failed = False
    for label, engine, seeded, done in databases(args, folder):
        try:
            failed |= report(label, run(label, engine, args, folder, seeded), args)
        finally:
            done()
    verdict = f"memory within +{args.memory_limit:.0f} MB, last 100k within {args.drift:.1f}x the first"
    print(f"\n{'FAIL' if failed else 'PASS'}: {verdict}" + (" (not met)" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
