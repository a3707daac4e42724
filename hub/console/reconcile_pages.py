"""Reconciliation in the console: the runs of the person's stores (when, over what period, what
drift each found, what the hub repaired, who ran it), a run's report item by item with the
suggested action, a page at a time, its CSV (the table as shown, streamed), and a form to run it
now that records who asked.

Who sees what: the reports are finance's, read with ``exports:read`` — the scope the API's
report CSV needs (owners and analysts). Running one is ``users:manage``'s (owners): it imports
refunds into the ledger and queues write-backs to the store, an integration setting's weight, as
webhook subscriptions are. The run is the CLI's own call (``hub.reconcile.run.reconcile``),
inline in the request: there is no queued form of it (the janitor's duty calls it inline too),
so the period is bounded (``LONGEST_DAYS``). Another tenant's run is a 404 page, as if absent."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for

from hub.console import reconcile_table as table
from hub.console.pages import _not_found, _problem, _stores, _who, bp, page
from hub.contracts import ListingFailed
from hub.errors import HubError
from hub.ledger import exports
from hub.ledger import reconcile as books
from hub.ledger.people import StoreScope
from hub.ledger.reconcile import Drift, Run
from hub.ledger.unit import Unit, read
from hub.people import roles
from hub.reconcile.report import safe_cell
from hub.reconcile.run import reconcile
from hub.web.app import current_hub
from hub.web.paging import cursor_arg, cursor_of, position_arg, position_of

log = logging.getLogger(__name__)
VIEW = roles.EXPORTS
RUN = roles.USERS
LONGEST_DAYS = 90
RUNS_PAGE = 30
REPORT_PAGE = 100  # items on one page of a report (a run over a busy quarter finds thousands)
CSV_PAGE = 500  # items read per short read while the CSV streams


class KindError(ValueError):
    """A ``kind`` filter that names no kind of drift (a hand-edited link)."""


def _kind_arg() -> str | None:
    kind = request.args.get("kind") or None
    if kind is not None and kind not in books.KINDS:
        raise KindError(f"{kind!r} is not a kind of drift; choose one from the list")
    return kind


@bp.errorhandler(KindError)
def _bad_kind(exc: KindError) -> tuple[str, int]:
    return _problem(400, "This link does not work", str(exc))


class NoSuchRun(LookupError):
    """No reconciliation run of that id among the person's stores."""


@bp.errorhandler(NoSuchRun)
def _no_such_run(exc: NoSuchRun) -> tuple[str, int]:
    return _not_found(f"reconciliation report {exc}")


def _visible_run(run_id: str) -> Run:
    """The run, if it is one of the person's stores; else ``NoSuchRun`` (a 404 page, as if absent)."""
    with read(current_hub().engine) as conn:
        found = books.run(conn, run_id)
    if found is None or found.kind != "reconcile" or not _who().stores.allows(found.connector, found.store_id):
        raise NoSuchRun(run_id)
    return found


@bp.get("/reconciliation")
@page(VIEW)
def reconciliation() -> Any:
    who = _who()
    stores = _stores(who)
    store = request.args.get("store") or None
    kind = _kind_arg()
    before = cursor_arg(request, "before")
    with read(current_hub().engine) as conn:
        found = books.runs(
            conn, store_id=store, limit=RUNS_PAGE + 1, kind="reconcile", found=kind, scope=who.stores, before=before
        )
    more = len(found) > RUNS_PAGE
    found = found[:RUNS_PAGE]
    older = cursor_of(found[-1].started_at, found[-1].id) if more else None
    return render_template(
        "console/reconcile_runs.html", runs=[table.summary(r) for r in found], stores=stores, store=store,
        kind=kind, kinds=books.KINDS, older=older, runnable=[s for s in stores if s.enabled],
        days=current_hub().config.reconcile.window_days, longest=LONGEST_DAYS, table=table,
    )  # fmt: skip


def _rows(conn: Unit, run: Run, drifts: Iterable[Drift], scope: StoreScope) -> list[table.Row]:
    """The items as the report's rows: with the order of each, a link to each refund the person
    may open, and when each repair was made."""
    wanted = list(drifts)
    known = table.Known(
        books.visible_refunds(conn, (d.refund_id or "" for d in wanted), scope),
        books.payment_orders(conn, run.connector, run.store_id, (d.payment_reference or "" for d in wanted)),
        books.repairs(conn, table.repair_keys(wanted)),
    )
    return table.rows(wanted, known)


@bp.get("/reconciliation/<run_id>")
@page(VIEW)
def reconciliation_report(run_id: str) -> Any:
    """One page of a run's items (``REPORT_PAGE``, in the order found, keyset on the item id)."""
    found = _visible_run(run_id)
    kind = _kind_arg()
    after = position_arg(request)
    with read(current_hub().engine) as conn:
        chunk = books.item_page(conn, run_id, after, REPORT_PAGE + 1, kind=kind)
        rows = _rows(conn, found, (d for _, d in chunk[:REPORT_PAGE]), _who().stores)
        first = books.items_before(conn, run_id, after, kind=kind) + 1 if after and rows else 1
    more = len(chunk) > REPORT_PAGE
    return render_template(
        "console/reconcile_report.html", run=found, s=table.summary(found), rows=rows,
        kind=kind, kinds=books.KINDS, columns=table.COLUMNS, table=table,
        errors=_sides_not_compared(found), first=first, after=after,
        next=position_of(chunk[REPORT_PAGE - 1][0]) if more else None,
    )  # fmt: skip


def _sides_not_compared(run: Run) -> list[str]:
    """The run's error, one line per side: ``reconcile`` joins them with "; ", and a side's own
    message may hold one too (``…cannot list refunds; not compared``), so only a "; " before the
    next side (``gateway:…`` or ``platform:…``) divides them."""
    return [part for part in re.split(r"; (?=(?:gateway|platform):)", run.error or "") if part]


@bp.get("/reconciliation/<run_id>.csv")
@page(VIEW)
def reconciliation_csv(run_id: str) -> Any:
    found = _visible_run(run_id)
    kind = _kind_arg()  # checked before the first byte
    name = f"reconciliation-{exports.safe_name(found.store_id)}-{found.started_at:%Y%m%dT%H%M%SZ}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    lines = _csv_lines(found, kind, _who().stores)
    return Response(stream_with_context(lines), mimetype="text/csv", headers=headers)


def _csv_lines(run: Run, kind: str | None, scope: StoreScope) -> Iterator[str]:
    """The report's table as CSV, ``CSV_PAGE`` items per short read: the answer starts at once
    and holds a page, however long the report."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.COLUMNS)
    yield _drained(buffer)
    after = 0
    while True:
        with read(current_hub().engine) as conn:
            chunk = books.item_page(conn, run.id, after, CSV_PAGE, kind=kind)
            rows = _rows(conn, run, (d for _, d in chunk), scope)
        for row in rows:
            writer.writerow([safe_cell(cell) for cell in row.cells])
        if rows:
            yield _drained(buffer)
        if len(chunk) < CSV_PAGE:
            return
        after = chunk[-1][0]


def _drained(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


@bp.post("/reconciliation/run")
@page(RUN)
def reconciliation_run() -> Any:
    """Reconcile one of the person's stores now, over the last ``days`` days (1 to ``LONGEST_DAYS``)."""
    who = _who()
    connector, _, store_id = request.form.get("store", "").partition(":")
    days = request.form.get("days", "").strip()
    if not days.isdigit() or not 1 <= int(days) <= LONGEST_DAYS:
        flash(f"Choose a period of 1 to {LONGEST_DAYS} days.", "error")
        return redirect(url_for("console.reconciliation"))
    if not connector or not store_id or not who.stores.allows(connector, store_id):
        return _not_found(f"store {store_id or '(none chosen)'}")
    since = datetime.now(UTC) - timedelta(days=int(days))
    log.info("reconcile %s/%s since %s, asked by %s", connector, store_id, since.isoformat(), who.actor)
    try:
        report = reconcile(current_hub(), store_id, since, connector=connector, by=who.actor, by_id=who.user_id)
    except (HubError, ListingFailed) as exc:
        flash(f"The store could not be reconciled: {exc}", "error")
        return redirect(url_for("console.reconciliation", store=store_id))
    done = sum(1 for d in report.drifts if d.resolution in table.HUB_REPAIRS)
    left = len(report.drifts) - done
    if report.errors:
        flash("Not every side could be compared: " + "; ".join(report.errors), "error")
    flash(
        f"Reconciled {store_id} over {days} days: {len(report.drifts)} difference(s) found, {done} repaired by the "
        f"hub, {left} left for you.",
        "success" if not left else "info",
    )
    return redirect(url_for("console.reconciliation_report", run_id=report.run_id))
