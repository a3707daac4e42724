"""``GET /v1/reporting/transactions`` as PayPal answers it for refunds: the account's transactions
between ``start_date`` and ``end_date`` (both required, at most 31 days apart), ``transaction_type``
filtering by event code (``T1107``: a payment refund), ``page_size`` up to 500, numbered ``page``s
with ``total_pages``. Only refunds are kept by the simulator, so only T1107 rows exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import request

from gateways.paypal import money
from gateways.paypal.sim import shapes
from hub.sandbox.gatewaysim import FAILED, PENDING, SimRefund

if TYPE_CHECKING:
    from gateways.paypal.sim.server import PayPalSimulator

LONGEST = timedelta(days=31)
STATUS = {PENDING: "P", FAILED: "D"}  # everything else: S (completed)


def _when(name: str) -> datetime:
    text = request.args.get(name)
    if not text:
        raise shapes.Answer(400, _invalid(f"{name} is required"))
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise shapes.Answer(400, _invalid(f"{name} is not a date-time")) from None


def _invalid(description: str) -> dict[str, Any]:
    return {"name": "INVALID_REQUEST", "message": "Request is not well-formed, syntactically incorrect, or "
            "violates schema.", "debug_id": shapes.debug_id(), "details": [{"issue": description}]}  # fmt: skip


def transaction(refund: SimRefund) -> dict[str, Any]:
    info: dict[str, Any] = {
        "transaction_id": refund.id,
        "paypal_reference_id": refund.payment_id,
        "paypal_reference_id_type": "TXN",
        "transaction_event_code": "T1107",
        "transaction_initiation_date": datetime.fromtimestamp(refund.created, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "transaction_amount": {
            "currency_code": refund.currency,
            "value": "-" + money.render(refund.amount, refund.currency),
        },  # fmt: skip
        "transaction_status": STATUS.get(refund.status, "S"),
    }
    if refund.metadata.get("invoice_id"):
        info["invoice_id"] = refund.metadata["invoice_id"]
    if refund.metadata.get("custom_id"):
        info["custom_field"] = refund.metadata["custom_id"]
    return {"transaction_info": info}


def search(sim: PayPalSimulator) -> Any:
    start, end = _when("start_date"), _when("end_date")
    if end - start > LONGEST:
        raise shapes.Answer(400, _invalid("Date range is greater than 31 days"))
    kind = request.args.get("transaction_type")
    size = min(int(request.args.get("page_size", 100)), 500)
    page = max(int(request.args.get("page", 1)), 1)
    found = sorted(
        (r for r in list(sim.ledger.refunds.values()) if start.timestamp() <= r.created <= end.timestamp()),
        key=lambda r: (r.created, r.id),
    )
    if kind not in (None, "", "T1107"):
        found = []
    pages = max(1, -(-len(found) // size))
    return {
        "transaction_details": [transaction(r) for r in found[(page - 1) * size : page * size]],
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "end_date": end.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "last_refreshed_datetime": shapes.timestamp(),
        "page": page,
        "total_items": len(found),
        "total_pages": pages,
        "links": [],
    }
