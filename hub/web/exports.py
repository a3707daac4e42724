"""``GET /api/exports/refunds.csv?<the filters of /api/refunds>``: every refund the filter selects,
as CSV (``hub.ledger.exports``), streamed while it is read — a keyset page at a time — so the
answer starts at once and the hub holds one page whatever the export's size. And
``GET /api/exports/reconcile/<run id>.csv``: a stored reconciliation report's drift items with their
actions (docs/reconciliation.md). Both need the ``exports:read`` scope; only the caller's stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Blueprint, Request, Response, request

from hub.ledger import exports
from hub.ledger import reconcile as books
from hub.ledger.unit import read
from hub.people import roles
from hub.reconcile.report import drift_csv
from hub.web.app import current_hub
from hub.web.auth import fail, principal, requires
from hub.web.bodies import BadRequest
from hub.web.paging import amount_arg, state_arg, text_arg, time_arg

bp = Blueprint("exports", __name__, url_prefix="/api/exports")


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> tuple[Response, int]:
    return fail(400, exc.code, exc.message)


def refund_filter(args: Request) -> exports.RefundFilter:
    """The filters of ``GET /api/refunds``, read as strictly (a bad value is a 400 naming it)."""
    return exports.RefundFilter(
        store_id=text_arg(args, "store_id"),
        state=state_arg(args),
        connector=text_arg(args, "connector", longest=64),
        route=text_arg(args, "route", longest=128),
        reason=text_arg(args, "reason", longest=32),
        currency=text_arg(args, "currency", longest=3),
        created_from=time_arg(args, "created_from"),
        created_before=time_arg(args, "created_before"),
        amount_min=amount_arg(args, "amount_min"),
        amount_max=amount_arg(args, "amount_max"),
    )


@bp.get("/refunds.csv")
@requires(roles.EXPORTS, current_hub)
def refunds_csv() -> Response:
    wanted = refund_filter(request)  # every argument checked before the first byte is sent
    who = principal(current_hub())
    assert who is not None  # ``requires`` let the request through
    hub = current_hub()
    rows = exports.refunds_matching(hub.engine, who.stores, wanted)
    return _attachment(exports.csv_chunks(rows), f"refunds-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.csv")


@bp.get("/reconcile/<run_id>.csv")
@requires(roles.EXPORTS, current_hub)
def reconcile_csv(run_id: str) -> Response | tuple[Response, int]:
    who = principal(current_hub())
    assert who is not None
    with read(current_hub().engine) as conn:
        found = books.run(conn, run_id)
        drifts = books.items(conn, run_id) if found is not None else []
    if found is None or not who.stores.allows(found.connector, found.store_id):
        return fail(404, "not_found", f"no reconciliation report {run_id}")
    return _attachment(
        drift_csv(drifts), f"reconcile-{exports.safe_name(found.store_id)}-{found.started_at:%Y%m%d}.csv"
    )


def _attachment(chunks: Iterator[str], name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(chunks, mimetype="text/csv", headers=headers)
