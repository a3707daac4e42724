"""``GET /api/exports/refunds.csv?<the filters of /api/refunds>``: every refund the filter selects,
as CSV (``hub.ledger.exports``), streamed while it is read — a keyset page at a time — so the
answer starts at once and the hub holds one page whatever the export's size. Needs the
``exports:read`` scope; only the caller's stores."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Request, Response, request

from hub.ledger import exports
from hub.people import roles
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
    name = f"refunds-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.csv"
    return Response(
        exports.csv_chunks(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
