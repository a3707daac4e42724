"""Analytics in the console: a few pages of charts over the ledger (``hub.ledger.analytics``),
each chart with its table and the table's CSV, filtered by store, period and platform, within the
stores the person may see. Who holds ``analytics:read`` (owners, approvers — the people who review
— and analysts; not support) sees them; the full refund export beside them is ``exports:read``'s
(``/api/exports/refunds.csv``, which takes the console's session too)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, jsonify, render_template, request

from hub.console import analytics_tables as tables
from hub.console.analytics_filters import FilterError, Filters, read_filters
from hub.console.analytics_orders import OrderCounts
from hub.console.pages import _stores, _who, bp, page
from hub.ledger.exports import FORMULA_STARTS
from hub.ledger.unit import read
from hub.ledger.views import StoreSummary
from hub.people import roles
from hub.web.app import current_hub


def _order_counts() -> OrderCounts:
    """The app's kept answers of the platforms (one per app, so per hub)."""
    return current_app.extensions.setdefault("refund_hub_order_counts", OrderCounts())


def _reads(conn: Any, filters: Filters, section: tables.Section, stores: list[StoreSummary]) -> tables.Reads:
    where = filters.slice(_who().stores)
    covered = [
        (s.connector, s.store_id)
        for s in stores
        if (filters.store is None or (s.connector, s.store_id) == filters.store)
        and (filters.platform is None or s.connector == filters.platform)
    ]
    orders = _order_counts().counts(current_hub(), covered, where.since, where.until) if section.needs_orders else {}
    return tables.Reads(conn, where, filters.bucket, orders, covered)


def _filters(stores: list[StoreSummary]) -> Filters:
    return read_filters(request.args, stores, datetime.now(UTC).date())


@bp.get("/analytics", defaults={"slug": "overview"})
@bp.get("/analytics/<slug>")
@page(roles.ANALYTICS)
def analytics(slug: str) -> Any:
    section = tables.BY_SLUG.get(slug)
    stores = _stores(_who())
    if section is None:
        return render_template("console/problem.html", title="Not found", status=404,
                               message=f"There is no analytics page {slug!r}."), 404  # fmt: skip
    try:
        filters = _filters(stores)
    except FilterError as exc:
        today = datetime.now(UTC).date()
        return render_template("console/analytics.html", section=section, sections=tables.SECTIONS, stores=stores,
                               filters=read_filters({}, stores, today), args=request.args, error=str(exc),
                               shown=[], notes=[]), 400  # fmt: skip
    with read(current_hub().engine) as conn:
        reads = _reads(conn, filters, section, stores)
        shown = [build(reads) for build in section.tables]
    notes = sorted(c.note for c in reads.orders.values() if c.note)
    return render_template("console/analytics.html", section=section, sections=tables.SECTIONS, stores=stores,
                           filters=filters, args=request.args, error=None, shown=shown, notes=notes)  # fmt: skip


@bp.get("/analytics/csv/<key>.csv")
@page(roles.ANALYTICS)
def analytics_csv(key: str) -> Any:
    """One chart's table as CSV: the same header and cells the page prints."""
    found = tables.TABLES.get(key)
    if found is None:
        return jsonify(error="not_found", message=f"there is no analytics table {key!r}"), 404
    stores = _stores(_who())
    try:
        filters = _filters(stores)
    except FilterError as exc:
        return jsonify(error="invalid_filter", message=str(exc)), 400
    section, build = found
    with read(current_hub().engine) as conn:
        table = build(_reads(conn, filters, section, stores))
    name = f"refund-hub-{key}-{filters.since.isoformat()}-{filters.until.isoformat()}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(csv_lines(table), mimetype="text/csv", headers=headers)


def _safe(cell: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (as every export)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_lines(table: tables.Table) -> Iterator[str]:
    """The table as RFC 4180 CSV, a line at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in (table.columns, *table.rows):
        writer.writerow([_safe(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
