"""The WooCommerce simulator's ``/__sim`` control API, for ``refund-hub demo`` driving a simulator that
runs in another process: seed an order paid through a gateway, ask for its refund, read what the
store refunded.

- ``POST /__sim/orders`` ``{"lines": [{"title", "price"}], "payment_method", "transaction_id",
  "currency"}`` (prices in minor units) → 201, the order as ``GET`` shows it. A ``stripe`` order also
  carries the transaction id as ``_stripe_intent_id``, as the Stripe plugin leaves it.
- ``POST /__sim/refund-requests`` ``{"order_id", "reason"}`` → 202: the order moves to the
  refund-request status, which fires the signed ``order.updated``.
- ``GET /__sim/orders/<id>`` → ``{"id", "status", "total", "payment": {...}, "refunded", "refunds"}``:
  ``refunded`` is the money the store itself paid out (``api_refund: true``), each refund record has
  ``recorded`` (its total), ``amount`` (what it paid out) and ``refunded_payment``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request

from hub.models.money import format_decimal, to_minor

if TYPE_CHECKING:
    from connectors.woocommerce.sim.server import WooCommerceSimulator


def register(app: Flask, sim: WooCommerceSimulator) -> None:
    @app.post("/__sim/orders")
    def _add_order() -> tuple[Response, int]:
        spec = request.get_json(silent=True)
        lines = spec.get("lines") if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or not isinstance(lines, list) or not lines:
            return _refused("send {'lines': [{'title', 'price'}], 'payment_method', 'transaction_id'}")
        currency = str(spec.get("currency") or "USD")
        method = str(spec.get("payment_method") or "stripe")
        reference = str(spec.get("transaction_id") or "")
        try:
            items = [
                (int(sim.add_product(str(x["title"]), format_decimal(int(x["price"]), currency))["id"]), 1)
                for x in lines
            ]
        except (KeyError, TypeError, ValueError) as exc:
            return _refused(f"bad line: {exc!r}")
        order = sim.add_order(
            items,
            payment_method=method,
            transaction_id=reference,
            currency=currency,
            shipping="0",
            intent_id=reference if method == "stripe" else None,
            paypal_order_id=reference if method.startswith("ppcp-") else None,
        )
        return jsonify(order_json(sim, int(order["id"]))), 201

    @app.post("/__sim/refund-requests")
    def _request_refund() -> tuple[Response, int]:
        spec = request.get_json(silent=True) or {}
        order_id = _order_id(sim, spec.get("order_id") if isinstance(spec, dict) else None)
        if order_id is None:
            return _refused("no such order_id", 404)
        sim.request_refund(order_id, str(spec.get("reason") or ""))
        return jsonify({"order_id": order_id, "status": sim.refund_request_status}), 202

    @app.get("/__sim/orders/<int:order_id>")
    def _show_order(order_id: int) -> tuple[Response, int]:
        if _order_id(sim, order_id) is None:
            return _refused(f"no order {order_id}", 404)
        return jsonify(order_json(sim, order_id)), 200


def order_json(sim: WooCommerceSimulator, order_id: int) -> dict[str, Any]:
    order = sim.shop.render_order(order_id)
    currency = order["currency"]
    records = [sim.shop.render_refund(r) for r in sim.shop.refunds_of(order_id)]
    refunds = [
        {
            "id": r["id"],
            "recorded": to_minor(r["amount"], currency),
            "amount": to_minor(r["amount"], currency) if r["refunded_payment"] else 0,
            "refunded_payment": r["refunded_payment"],
            "meta": {m["key"]: m["value"] for m in r.get("meta_data") or ()},
        }
        for r in sorted(records, key=lambda r: r["id"])
    ]
    return {
        "id": order_id,
        "status": order["status"],
        "currency": currency,
        "total": to_minor(order["total"], currency),
        "payment": {"method": order["payment_method"], "reference": order["transaction_id"]},
        "refunded": sum(r["amount"] for r in refunds),
        "refunds": refunds,
    }


def _order_id(sim: WooCommerceSimulator, value: Any) -> int | None:
    try:
        order_id = int(value)
    except (TypeError, ValueError):
        return None
    return order_id if order_id in sim.shop.orders else None


def _refused(message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify({"errors": message}), status
