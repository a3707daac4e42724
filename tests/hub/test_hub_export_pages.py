"""The pages of a refund export cost the same from the first to the last: each is a range of an
index read from the cursor on, not a walk from the newest refund (which made a million-refund
export slow down page after page) nor a sort of the ledger, on SQLite and on PostgreSQL.

What a page costs is measured by the database itself on the statement the export sent: SQLite's
virtual machine steps, PostgreSQL's rows read by each plan node (``EXPLAIN ANALYZE``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from hub.ledger import exports
from hub.ledger.people import ALL_STORES
from hub.ledger.unit import refresh_statistics
from hub.testing.harness import HubHarness
from tests.hub.test_hub_exports import _seed
from tests.reconcile import databases

TOTAL = 24_000
PAGE = 500
KEYS = "SELECT refunds.created_at, refunds.id \nFROM refunds"  # the page's keys, before its rows


@pytest.fixture(scope="module", params=databases.KINDS)
def ledger(
    request: pytest.FixtureRequest, pg_available: bool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    folder = tmp_path_factory.mktemp("export-pages")
    with databases.database_url(request.param, pg_available) as url, HubHarness(folder, database_url=url) as harness:
        _seed(harness, TOTAL)
        refresh_statistics(harness.hub.engine)  # as the janitor keeps them in a running hub
        yield harness.hub.engine


def _key_statements(engine: Engine) -> list[tuple[str, Any]]:
    """The keys statement of every page of a full export, as sent."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.startswith(KEYS):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        seen = sum(1 for _ in exports.refunds_matching(engine, ALL_STORES, exports.RefundFilter(), page=PAGE))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert seen == TOTAL
    return sent


def _cost(engine: Engine, statement: str, parameters: Any) -> int:
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "sqlite":
            steps = [0]

            def step() -> int:
                steps[0] += 1
                return 0

            raw.driver_connection.set_progress_handler(step, 100)
            raw.cursor().execute(statement, parameters).fetchall()
            raw.driver_connection.set_progress_handler(None, 0)
            return steps[0] * 100
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
        [[plan]] = cursor.fetchall()
        return _rows_read(json.loads(plan)[0]["Plan"] if isinstance(plan, str) else plan[0]["Plan"])
    finally:
        raw.close()


def _rows_read(node: dict[str, Any]) -> int:
    here = node.get("Actual Rows", 0) * node.get("Actual Loops", 1) + node.get("Rows Removed by Filter", 0)
    return int(here) + sum(_rows_read(child) for child in node.get("Plans", ()))


def test_the_last_page_of_an_export_costs_what_the_first_does(ledger: Engine) -> None:
    pages = _key_statements(ledger)
    assert len(pages) == TOTAL // PAGE + 1  # the last page is the empty one that ends it
    first, deep = _cost(ledger, *pages[1]), _cost(ledger, *pages[-2])  # both carry a cursor
    assert deep < 2 * first, f"page {len(pages) - 1} cost {deep}, page 2 cost {first}"
    # and a page reads about a page: neither a walk from the newest row nor a sort of the ledger
    assert first < (TOTAL // 2 if ledger.dialect.name == "sqlite" else 4 * PAGE), first


def test_pages_neither_skip_nor_repeat_refunds_that_share_a_time(tmp_path: Path) -> None:
    """Many refunds of one second: the cursor's time bound keeps each, once, in order."""
    with HubHarness(tmp_path) as harness:
        _seed(harness, 1_500)
        with harness.hub.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE refunds SET created_at = (SELECT MIN(created_at) FROM refunds)"
                                 " WHERE CAST(substr(id, 4) AS INTEGER) % 3 = 0")  # fmt: skip
        every = exports.RefundFilter()
        paged = [r.id for r in exports.refunds_matching(harness.hub.engine, ALL_STORES, every, page=7)]
        whole = [r.id for r in exports.refunds_matching(harness.hub.engine, ALL_STORES, every, page=500)]
    assert len(paged) == len(set(paged)) == 1_500
    assert paged == whole
