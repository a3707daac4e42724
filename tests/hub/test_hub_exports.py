"""Refund exports: ``GET /api/exports/refunds.csv`` with the filters of ``/api/refunds`` streams
exactly the rows the filter selects, in constant memory (200 000 refunds on SQLite), and the
monthly export file is written once per store and month."""

from __future__ import annotations

import csv
import hashlib
import io
import random
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import and_, insert, select, true

from hub.db.tables import refunds
from hub.ledger import exports
from hub.testing.harness import HubHarness

AUTH = {"Authorization": "Bearer test-admin-token"}
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
STORES = ("store-a", "store-b", "store-c")


def _refund(n: int, rng: random.Random) -> dict[str, Any]:
    amount = rng.randint(100, 90_000)
    created = NOW - timedelta(seconds=rng.randint(0, 200 * 86400))
    state = rng.choice(("written_back", "denied", "recorded", "review", "succeeded"))
    lines = [
        {"line_id": f"{n}-{i}", "sku": f"SKU-{rng.randrange(50)}", "product_id": f"p{i}", "title": f"Item, \"{i}\"",
         "quantity": 1, "unit_price": amount // 2, "tax": 0, "kind": "physical"}
        for i in range(rng.randint(0, 2))
    ]  # fmt: skip
    action = "deny" if state == "denied" else "approve"
    return {
        "id": f"rf_{n:024d}",
        "connector": "sandbox",
        "store_id": STORES[n % len(STORES)],
        "source_ref": f"rq-{n}",
        "order_id": str(10_000 + n),
        "kind": "recorded" if state == "recorded" else "requested",
        "state": state,
        "money_moved": state == "recorded",
        "amount": amount,
        "approved_amount": None if state in ("denied", "review") else amount,
        "currency": rng.choice(("USD", "EUR")),
        "route": "gateway:sandbox",
        "idempotency_key": f"rh-{n}",
        "decision": {
            "decision": {
                "action": action,
                "amount": amount,
                "rules": [{"rule": "window.physical", "effect": "approve", "detail": "in window"}],
                "explanation": "",
                "policy_version": "v1",
                "alternative": None,
                "line_amounts": [],
            }
        },  # fmt: skip
        "policy_version": "v1",
        "request": {
            "reason": rng.choice(("damaged", "changed_mind")),
            "reason_text": "it broke\nin two",
            "lines": lines,
        },  # fmt: skip
        "customer_email": f"c{n % 977}@example.com",
        "attempts": 0,
        "needs_person": False,
        "created_at": created,
        "updated_at": created,
    }


def _seed(harness: HubHarness, total: int, batch: int = 10_000) -> None:
    rng = random.Random(17)
    for start in range(0, total, batch):
        with harness.hub.engine.begin() as conn:
            conn.execute(insert(refunds), [_refund(n, rng) for n in range(start, min(total, start + batch))])


def _expected(harness: HubHarness, *where: Any) -> Iterator[str]:
    """The CSV of exactly the rows ``where`` selects, newest first, read in one streamed query
    (not through the export's keyset pages)."""
    from hub.ledger.records import Refund, from_row

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(exports.COLUMNS)
    query = select(refunds).where(and_(true(), *where)).order_by(refunds.c.created_at.desc(), refunds.c.id.desc())
    with harness.hub.engine.connect() as conn:
        for row in conn.execution_options(yield_per=2000).execute(query):
            for line in exports.rows_of(from_row(Refund, row)):
                writer.writerow(line)
            if buffer.tell() > 65536:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[HubHarness]:
    with HubHarness(tmp_path) as made:
        yield made


def test_a_filtered_export_is_exactly_the_filters_rows(harness: HubHarness) -> None:
    _seed(harness, 3_000, batch=1_000)
    since = NOW - timedelta(days=40)
    answer = harness.client.get(
        f"/api/exports/refunds.csv?store_id=store-b&reason=damaged&created_from={since.isoformat()}".replace(
            "+", "%2B"
        ),
        headers=AUTH,
    )
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
    r = refunds.c
    expected = "".join(
        _expected(harness, r.store_id == "store-b", r.request["reason"].as_string() == "damaged", r.created_at >= since)
    )
    assert answer.get_data(as_text=True) == expected
    table = list(csv.DictReader(io.StringIO(expected)))
    assert len({row["refund_id"] for row in table}) > 50  # a real selection (paging: the 200 000 below)
    assert {row["store_id"] for row in table} == {"store-b"}
    assert {row["reason"] for row in table} == {"damaged"}


def test_one_refund_reads_as_its_columns_say(harness: HubHarness) -> None:
    row = _refund(1, random.Random(3))
    row["request"]["lines"] = [
        {"line_id": "L1", "sku": "MUG", "title": 'Mug, "big"', "quantity": 2, "unit_price": 1500, "tax": 300},
        {"line_id": "L2", "sku": "TEA", "title": "Tea", "quantity": 1, "unit_price": 800, "tax": 0},
    ]
    row.update(state="written_back", amount=4100, approved_amount=3300, kind="requested", money_moved=False,
               gateway_refund_id="re_1", writeback_ref="sr-1")  # fmt: skip
    row["decision"]["decision"].update(action="approve_partial", amount=3300, line_amounts=[["L1", 2500]])
    with harness.hub.engine.begin() as conn:
        conn.execute(insert(refunds), [row])
    text = harness.client.get("/api/exports/refunds.csv", headers=AUTH).get_data(as_text=True)
    first, second = csv.DictReader(io.StringIO(text))
    assert (first["refund_id"], first["requested"], first["approved"], first["refunded"]) == (row["id"], "4100",
                                                                                            "3300", "3300")  # fmt: skip
    assert (first["decision"], first["decision_amount"], first["rules"]) == ("approve_partial", "3300",
                                                                           "window.physical")  # fmt: skip
    assert (first["gateway_refund_id"], first["writeback_ref"], first["reason_text"]) == ("re_1", "sr-1",
                                                                                        "it broke\nin two")  # fmt: skip
    assert (first["line_id"], first["title"], first["quantity"], first["line_refunded"]) == ("L1", 'Mug, "big"',
                                                                                           "2", "2500")  # fmt: skip
    assert (second["line_id"], second["line_refunded"]) == ("L2", "800")  # not named: the whole line
    assert second["refund_id"] == row["id"]
    assert second["money_moved"] == "true"


def test_bad_filters_and_missing_credentials_are_refused_before_streaming(harness: HubHarness) -> None:
    assert harness.client.get("/api/exports/refunds.csv").status_code == 401
    for query, code in (("state=nope", "invalid_state"), ("amount_min=-3", "invalid_amount_min"),
                        ("created_from=yesterday", "invalid_created_from")):  # fmt: skip
        answer = harness.client.get(f"/api/exports/refunds.csv?{query}", headers=AUTH)
        assert (answer.status_code, answer.get_json()["error"]) == (400, code)


@pytest.mark.slow
def test_two_hundred_thousand_refunds_stream_in_constant_memory(harness: HubHarness) -> None:
    total = 200_000
    _seed(harness, total)
    expected = hashlib.sha256()
    for chunk in _expected(harness):
        expected.update(chunk.encode())
    tracemalloc.start()
    try:
        answer = harness.client.get("/api/exports/refunds.csv", headers=AUTH, buffered=False)
        got, size = hashlib.sha256(), 0
        for chunk in answer.response:
            data = chunk if isinstance(chunk, bytes) else chunk.encode()
            got.update(data)
            size += len(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    answer.close()
    assert got.hexdigest() == expected.hexdigest()
    assert size > 40_000_000  # the export is far larger than what it may hold at once
    assert peak < 12_000_000, f"peak {peak / 1e6:.1f} MB while streaming {size / 1e6:.0f} MB"


def test_the_monthly_export_is_written_once_per_store(harness: HubHarness, tmp_path: Path) -> None:
    _seed(harness, 600, batch=600)
    folder = tmp_path / "exports"
    made = exports.write_month(harness.hub.engine, folder, "sandbox", "store-a", "2026-10")
    r = refunds.c
    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    wanted = "".join(_expected(harness, r.store_id == "store-a", r.created_at >= start, r.created_at < end))
    written = Path(made.path).read_bytes()
    assert written.decode() == wanted
    assert made.rows == len(list(csv.reader(io.StringIO(wanted)))) - 1
    assert made.sha256 == hashlib.sha256(written).hexdigest()
    assert Path(made.path) == folder / "sandbox" / "store-a" / "refunds-2026-10.csv"
    Path(made.path).write_text("kept")  # a second run keeps the file it listed, whatever changed since
    assert exports.write_month(harness.hub.engine, folder, "sandbox", "store-a", "2026-10") == made
    assert Path(made.path).read_text() == "kept"
    assert exports.previous_month(datetime(2027, 1, 5, tzinfo=UTC)) == "2026-12"


def test_text_a_spreadsheet_would_run_is_written_inert(harness: HubHarness) -> None:
    row = _refund(2, random.Random(5))
    row["request"].update(reason_text='=HYPERLINK("https://evil.example","open")', lines=[])
    row["customer_email"] = "@sum(1+1)@example.com"
    with harness.hub.engine.begin() as conn:
        conn.execute(insert(refunds), [row])
    [written] = csv.DictReader(
        io.StringIO(harness.client.get("/api/exports/refunds.csv", headers=AUTH).get_data(as_text=True))
    )
    assert written["reason_text"] == '\'=HYPERLINK("https://evil.example","open")'
    assert written["customer_email"] == "'@sum(1+1)@example.com"
    assert written["requested"] == str(row["amount"])  # numbers are left as they are
