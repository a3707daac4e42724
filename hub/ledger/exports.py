"""Refunds as CSV, for any filter of the refund list: one row per refunded line (a refund with no
lines has one row), every id, the reason, the decision and the amounts.

The rows come from ``views.refund_search`` a keyset page at a time, each page in its own short
read, so an export of a million refunds holds one page in memory and never a long transaction;
the JSON API's ``/api/exports/refunds.csv``, ``refund-hub export refunds`` and the monthly export
files all stream from ``csv_chunks``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from hub.db.tables_reconcile import export_files
from hub.db.upsert import insert_ignore
from hub.ledger import states, views
from hub.ledger.people import ALL_STORES, StoreScope
from hub.ledger.records import Refund
from hub.ledger.unit import read, write

PAGE = views.MAX_PAGE
ROWS_PER_CHUNK = 200  # CSV rows per chunk handed to the response (a few tens of kB)

COLUMNS = (
    "refund_id",
    "parent_id",
    "connector",
    "store_id",
    "order_id",
    "source_ref",
    "kind",
    "state",
    "created_at",
    "executed_at",
    "currency",
    "requested",
    "approved",
    "refunded",
    "money_moved",
    "route",
    "gateway_refund_id",
    "writeback_ref",
    "reason",
    "reason_text",
    "decision",
    "decision_amount",
    "alternative",
    "rules",
    "policy_version",
    "review_verdict",
    "review_by",
    "customer_id",
    "customer_email",
    "line_id",
    "sku",
    "product_id",
    "title",
    "quantity",
    "unit_price",
    "line_tax",
    "line_refunded",
)


@dataclass(frozen=True)
class RefundFilter:
    """The refund list's filters (``views.refund_search``), as the API and the CLI read them."""

    store_id: str | None = None
    state: str | None = None
    connector: str | None = None
    route: str | None = None
    reason: str | None = None
    currency: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    amount_min: int | None = None
    amount_max: int | None = None

    def as_search(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def refunds_matching(engine: Engine, scope: StoreScope, wanted: RefundFilter, page: int = PAGE) -> Iterator[Refund]:
    """Every refund the filter selects within ``scope``, newest first, one keyset page per read."""
    cursor: tuple[datetime, str] | None = None
    while True:
        with read(engine) as conn:
            rows = views.refund_search(conn, scope, limit=page, cursor=cursor, **wanted.as_search())
        yield from rows
        if len(rows) < page:
            return
        cursor = (rows[-1].created_at, rows[-1].id)


def money_back(refund: Refund) -> int:
    """What reached the customer's payment: an executed success, or a record of money moved."""
    if refund.state in states.SUCCESSES:
        return refund.approved_amount if refund.approved_amount is not None else refund.amount
    return refund.amount if refund.state == states.RECORDED and refund.money_moved else 0


def rows_of(refund: Refund) -> list[list[Any]]:
    """The CSV rows of one refund: its own columns, then one line's (or none)."""
    asked = refund.request or {}
    stored = refund.decision or {}
    decision = stored.get("decision") if isinstance(stored.get("decision"), Mapping) else {}
    review = stored.get("reviewed") if isinstance(stored.get("reviewed"), Mapping) else {}
    assert isinstance(decision, Mapping)
    assert isinstance(review, Mapping)
    shares = {str(line_id): int(amount) for line_id, amount in decision.get("line_amounts") or ()}
    head = [
        refund.id,
        refund.parent_id or "",
        refund.connector,
        refund.store_id,
        refund.order_id,
        refund.source_ref,
        refund.kind,
        refund.state,
        _time(refund.created_at),
        _time(refund.executed_at),
        refund.currency,
        refund.amount,
        "" if refund.approved_amount is None else refund.approved_amount,
        money_back(refund),
        "true" if money_back(refund) > 0 else "false",
        refund.route or "",
        refund.gateway_refund_id or "",
        refund.writeback_ref or "",
        asked.get("reason") or "other",
        asked.get("reason_text") or "",
        decision.get("action", ""),
        decision.get("amount", ""),
        decision.get("alternative") or "",
        " ".join(str(hit.get("rule", "")) for hit in decision.get("rules") or ()),
        refund.policy_version or "",
        review.get("verdict", ""),
        review.get("by", ""),
        refund.customer_id or "",
        refund.customer_email or "",
    ]
    lines = [line for line in asked.get("lines") or () if isinstance(line, Mapping)]
    rows = [head + _line(line, shares) for line in lines] if lines else [head + [""] * 8]
    return [[_cell(value) for value in row] for row in rows]


def _line(line: Mapping[str, Any], shares: Mapping[str, int]) -> list[Any]:
    quantity, unit_price, tax = int(line.get("quantity", 0)), int(line.get("unit_price", 0)), int(line.get("tax", 0))
    line_id = str(line.get("line_id", ""))
    share = shares.get(line_id, unit_price * quantity + tax)  # a line the decision does not name goes back whole
    return [line_id, line.get("sku") or "", line.get("product_id") or "", line.get("title", ""), quantity, unit_price,
            tax, share]  # fmt: skip


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (a customer's reason starting with ``=``) is
    written with a leading apostrophe (OWASP's advice for CSV injection); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _time(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value is not None else ""


def csv_chunks(refunds: Iterable[Refund], *, header: bool = True) -> Iterator[str]:
    """The CSV text in chunks of ``ROWS_PER_CHUNK`` rows (RFC 4180: CRLF, quoted where needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(COLUMNS)
    pending = 0
    for refund in refunds:
        for row in rows_of(refund):
            writer.writerow(row)
            pending += 1
        if pending >= ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


# --- the monthly export files --------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    connector: str
    store_id: str
    period: str
    path: str
    rows: int
    sha256: str


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """``2026-11`` → [2026-11-01, 2026-12-01) in UTC."""
    year, month = (int(part) for part in period.split("-"))
    start = datetime(year, month, 1, tzinfo=UTC)
    return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def previous_month(now: datetime) -> str:
    year, month = now.year, now.month - 1
    return f"{year - 1}-12" if month == 0 else f"{year}-{month:02d}"


def exported(conn: Connection, connector: str, store_id: str, period: str) -> ExportFile | None:
    f = export_files.c
    row = conn.execute(
        select(export_files).where(f.connector == connector, f.store_id == store_id, f.period == period)
    ).first()
    return None if row is None else ExportFile(row.connector, row.store_id, row.period, row.path, row.rows, row.sha256)


def write_month(engine: Engine, folder: Path, connector: str, store_id: str, period: str) -> ExportFile:
    """The store's refunds created in ``period`` as ``<folder>/<connector>/<store>/refunds-<period>.csv``,
    written to a temporary name and renamed (a reader never sees half a file), then listed in
    ``export_files``. An existing export of the period is kept, not written again."""
    with read(engine) as conn:
        done = exported(conn, connector, store_id, period)
    if done is not None:
        return done
    start, end = month_bounds(period)
    wanted = RefundFilter(store_id=store_id, connector=connector, created_from=start, created_before=end)
    target = folder / safe_name(connector) / safe_name(store_id) / f"refunds-{period}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, count = hashlib.sha256(), [0]
    partial = target.with_suffix(".csv.partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        for chunk in csv_chunks(_counted(refunds_matching(engine, ALL_STORES, wanted), count)):
            out.write(chunk)
            digest.update(chunk.encode())
    os.replace(partial, target)
    made = ExportFile(connector, store_id, period, str(target), count[0], digest.hexdigest())
    with write(engine) as conn:
        values = {**made.__dict__, "created_at": datetime.now(UTC)}
        insert_ignore(conn, export_files, values, conflict=("connector", "store_id", "period"))
    return made


def _counted(refunds: Iterable[Refund], count: list[int]) -> Iterator[Refund]:
    """The refunds, adding each one's CSV rows to ``count[0]`` as they pass."""
    for refund in refunds:
        count[0] += max(1, sum(1 for line in (refund.request or {}).get("lines") or () if isinstance(line, Mapping)))
        yield refund


def safe_name(name: str) -> str:
    """A store id as one path segment (Shopify domains and Magento URLs carry dots and slashes)."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).lstrip(".") or "_"
