"""The merchant console and the JSON API at a million refunds: p50/p95 of each page a person opens
most, against the sign-in page (no ledger read) measured in the same run.

For each database (SQLite file, PostgreSQL on 127.0.0.1) the bench builds the schema with the
hub's migrations, seeds ``--refunds`` refunds (20 stores, a year of history, 2 % waiting for a
person, an audit trail of four entries on every tenth refund) with multi-row INSERTs, refreshes
the planner's statistics as the janitor does in a running hub, signs in an
approver granted 10 of the 20 stores (so every query carries the tenancy clause), and requests each
page ``--requests`` times through the real app (Flask's WSGI client: routing, session, the ledger
query, Jinja rendering, no network):

  baseline     GET /login (a template, no ledger read)
  queue        GET /queue — oldest waiting first, across the granted stores
  queue page 2 GET /queue?after=… — the next page by keyset cursor
  list         GET /refunds — newest first
  list+filter  GET /refunds?store=…&state=written_back&from=…&to=… — a store, a state, a month
  list amount  GET /refunds?currency=EUR&min=…&max=… — an amount range in one currency
  refund page  GET /refunds/<id> — a refund with its lines, decision, trail and notes
  api list     GET /api/refunds?store_id=…&reason=damaged — the JSON API, filtered
  api refund   GET /api/refunds/<id>

Prints p50/p95/max in ms and p95 ÷ baseline p95; exits 1 when a page's p95 is over ``--limit``
(150 ms). Usage:

    .venv/bin/python bench/console.py [--refunds 1000000] [--requests 200] [--databases sqlite,postgres]
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import venv  # noqa: E402

venv.reexec()

from sqlalchemy import Engine, insert, select  # noqa: E402

from hub.db.engine import make_engine  # noqa: E402
from hub.db.migrate import upgrade  # noqa: E402
from hub.db.tables import audit, refunds  # noqa: E402
from hub.ledger.unit import refresh_statistics  # noqa: E402
from hub.testing.harness import HubHarness  # noqa: E402

STORES = [f"store-{n:02d}" for n in range(20)]
GRANTED = STORES[:10]
PASSWORD = "bench bench bench bench"
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
STATES = (("written_back", 84.0), ("denied", 6.0), ("succeeded", 3.0), ("failed", 1.5), ("recorded", 3.5),
          ("review", 1.5), ("offered", 0.5))  # fmt: skip
REASONS = ("damaged", "not_as_described", "size_or_fit", "changed_mind", "defective", "other")
CURRENCIES = (("USD", 70), ("EUR", 20), ("JPY", 10))
BATCH = 5_000
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "refund_hub_bench_console"


def decision(amount: int) -> dict[str, Any]:
    return {"action": "approve", "amount": amount, "rules": [], "explanation": "within policy",
            "policy_version": "v1", "alternative": None, "line_amounts": []}  # fmt: skip


def refund_rows(rng: random.Random, start: int, count: int) -> Iterator[dict[str, Any]]:
    states, weights = zip(*STATES, strict=True)
    currencies, currency_weights = zip(*CURRENCIES, strict=True)
    for n in range(start, start + count):
        state = rng.choices(states, weights)[0]
        currency = rng.choices(currencies, currency_weights)[0]
        amount = rng.randint(100, 50_000) * (1 if currency != "JPY" else 1)
        created = NOW - timedelta(seconds=rng.uniform(0, 365 * 86400))
        store = STORES[n % len(STORES)]
        reason = rng.choice(REASONS)
        lines = [
            {
                "line_id": f"{n}-{i}",
                "sku": f"SKU-{rng.randrange(400)}",
                "title": f"Item {i}",
                "quantity": 1,
                "unit_price": amount // 2,
                "tax": 0,
                "kind": "physical",
            }  # fmt: skip
            for i in range(1, rng.randint(1, 3) + 1)
        ]
        yield {
            "id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "connector": "sandbox",
            "store_id": store,
            "source_ref": f"rq-{n}",
            "order_id": str(100_000 + n),
            "kind": "recorded" if state == "recorded" else "requested",
            "state": state,
            "money_moved": state == "recorded",
            "amount": amount,
            "approved_amount": None if state in ("review", "offered", "denied") else amount,
            "currency": currency,
            "route": "gateway:sandbox",
            "idempotency_key": f"k{n}",
            "decision": {
                "decision": {
                    "action": "approve",
                    "amount": amount,
                    "rules": [],
                    "explanation": "within policy",
                    "policy_version": "v1",
                    "alternative": None,
                    "line_amounts": [],
                }
            },  # fmt: skip
            "policy_version": "v1",
            "request": {"reason": reason, "reason_text": "", "lines": lines, "shipping": 0},
            "customer_id": f"c{rng.randrange(200_000)}",
            "customer_email": f"c{rng.randrange(200_000)}@example.com",
            "attempts": 0,
            "needs_person": False,
            "created_at": created,
            "updated_at": created + timedelta(minutes=5),
        }


def seed(engine: Engine, total: int) -> tuple[float, list[str]]:
    """Seed ``total`` refunds; returns seconds taken and the ids that carry an audit trail."""
    rng = random.Random(7)
    traced: list[str] = []
    began = time.perf_counter()
    for start in range(0, total, BATCH):
        rows = list(refund_rows(rng, start, min(BATCH, total - start)))
        trail = [
            {
                "at": row["created_at"] + timedelta(seconds=s),
                "refund_id": row["id"],
                "actor": actor,
                "action": action,
                "detail": {"state": action},
            }  # fmt: skip
            for row in rows[::10]
            for s, (actor, action) in enumerate(
                (("ingest", "received"), ("policy", "decided"), ("worker", "executed"), ("worker", "written_back"))
            )
        ]
        with engine.begin() as conn:
            conn.execute(insert(refunds), rows)
            conn.execute(insert(audit), trail)
        traced += [row["id"] for row in rows[::10] if row["store_id"] in GRANTED]
        if start and start % 200_000 == 0:
            print(f"  seeded {start:,} refunds ({time.perf_counter() - began:.0f} s)", flush=True)
    return time.perf_counter() - began, traced


def fresh_pg() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    return f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"


def signed_in(harness: HubHarness) -> Any:
    accounts = harness.hub.accounts
    try:
        accounts.add_user("ana@example.com", "Ana", "approver", PASSWORD)
    except ValueError:  # a ledger seeded by an earlier run (--sqlite-file, --reuse-schema) has her and her grants
        pass
    else:
        for store in GRANTED:
            accounts.grant("ana@example.com", "sandbox", store)
    client = harness.app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD, "csrf_token": token[1]})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return client


def timed(get: Callable[[], Any], requests: int) -> list[float]:
    get()  # warm: the first request compiles the template and fills the statement cache
    found = []
    for _ in range(requests):
        began = time.perf_counter()
        answer = get()
        found.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, (answer.status_code, answer.get_data(as_text=True)[:300])
    return found


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def run(label: str, database_url: str, args: argparse.Namespace, folder: Path) -> list[tuple[str, list[float]]]:
    engine = make_engine(database_url)
    upgrade(engine)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the harness migrates again: no replay of the log
    took, traced = seed(engine, args.refunds)
    refresh_statistics(engine)  # what the janitor's statistics duty keeps fresh in a running hub
    with engine.connect() as conn:
        counted = conn.execute(select(refunds.c.id).limit(1)).first()
    assert counted is not None
    print(f"{label}: {args.refunds:,} refunds seeded in {took:.0f} s", flush=True)
    harness = HubHarness(
        folder / label,
        engine=engine,
        connectors={"sandbox": {"webhook_secret": "bench"}},
        stores={store: {"connector": "sandbox", "policy": "default"} for store in STORES},
        policies={"default": {}},
    )
    try:
        client = signed_in(harness)
        anonymous = harness.app.test_client()
        first_queue = client.get("/queue").get_data(as_text=True)
        after = re.search(r'href="[^"]*\?[^"]*after=([^"&]+)', first_queue)
        rng = random.Random(11)
        month = NOW - timedelta(days=40)
        token = {"Authorization": "Bearer test-admin-token"}
        pages: list[tuple[str, Callable[[], Any]]] = [
            ("baseline GET /login", lambda: anonymous.get("/login")),
            ("queue", lambda: client.get("/queue")),
            ("queue page 2", lambda: client.get(f"/queue?after={after[1] if after else ''}")),
            ("list", lambda: client.get("/refunds")),
            (
                "list + store/state/month",
                lambda: client.get(
                    f"/refunds?store={rng.choice(GRANTED)}&state=written_back"
                    f"&from={month:%Y-%m-%d}&to={month + timedelta(days=30):%Y-%m-%d}"
                ),
            ),
            ("list + EUR amount range", lambda: client.get("/refunds?currency=EUR&min=100.00&max=120.00")),
            ("refund page", lambda: client.get(f"/refunds/{rng.choice(traced)}")),
            (
                "api list store+reason",
                lambda: client.get(f"/api/refunds?store_id={rng.choice(GRANTED)}&reason=damaged", headers=token),
            ),
            ("api refund", lambda: client.get(f"/api/refunds/{rng.choice(traced)}", headers=token)),
        ]
        return [(name, timed(get, args.requests)) for name, get in pages]
    finally:
        harness.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refunds", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--limit", type=float, default=150.0, help="p95 ms every page must stay under")
    args = parser.parse_args()
    wanted = [name.strip() for name in args.databases.split(",") if name.strip()]
    venv.databases_ready(wanted)
    folder = Path(tempfile.mkdtemp(prefix="rh-bench-console-"))
    failed = False
    for label in wanted:
        url = f"sqlite:///{folder / 'hub.db'}" if label == "sqlite" else fresh_pg()
        results = run(label, url, args, folder)
        base = p95(results[0][1])
        print(f"\n{label}, {args.refunds:,} refunds, {args.requests} requests per page")
        print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95/baseline':>13}")
        for name, values in results:
            over = name != results[0][0] and p95(values) > args.limit
            failed |= over
            mark = "  OVER" if over else ""
            print(
                f"{name:32} {statistics.median(values):8.1f} {p95(values):8.1f} {max(values):8.1f}"
                f" {p95(values) / base:13.1f}{mark}"
            )
    print(f"\n{'FAIL' if failed else 'PASS'}: every page p95 <= {args.limit:.0f} ms" + (" (not met)" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
