"""The Magento simulator's ``/__sim`` control API, for ``refund-hub demo`` driving a simulator that runs
in another process: seed a paid order, open a return (RMA) for it, read what Magento refunded.

- ``POST /__sim/orders`` ``{"lines": [{"title", "price"}], "method", "last_trans_id"}`` (prices in
  minor units; ``method`` e.g. ``squareup_payment``, ``paypal_express``, ``stripe_payments``) →
  201, the invoiced order as ``GET`` shows it.
- ``POST /__sim/returns`` ``{"order_id", "reason"}`` → 202 ``{"id", "order_id"}``: an RMA for the
  whole order, which fires the signed I/O Event ``observer.rma_save_after`` (Adobe Commerce only).
- ``GET /__sim/orders/<id>`` → ``{"id", "status", "total", "payment", "refunded", "refunds"}``:
  ``refunded`` is the money Magento itself moved (online credit memos), each credit memo has
  ``recorded`` (its grand total), ``amount`` (what it moved online) and ``online``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request

from connectors.magento.sim.state import MagentoFault
from connectors.magento.transformers import minor

if TYPE_CHECKING:
    from connectors.magento.sim.server import MagentoSimulator


def register(app: Flask, sim: MagentoSimulator) -> None:
    @app.post("/__sim/orders")
    def _add_order() -> tuple[Response, int]:
        spec = _body()
        lines = spec.get("lines")
        if not isinstance(lines, list) or not lines:
            raise MagentoFault(400, "send {'lines': [{'title', 'price'}], 'method', 'last_trans_id'}")
        try:
            items = [{"sku": _sku(str(x["title"])), "name": str(x["title"]), "price": int(x["price"])} for x in lines]
        except (KeyError, TypeError, ValueError) as exc:
            raise MagentoFault(400, f"bad line: {exc!r}") from None
        order = sim.add_order(
            items, method=str(spec.get("method") or "checkmo"), last_trans_id=spec.get("last_trans_id") or None
        )
        return jsonify(order_json(sim, order["entity_id"])), 201

    @app.post("/__sim/returns")
    def _open_return() -> tuple[Response, int]:
        if sim.edition != "commerce":
            raise MagentoFault(404, "Magento Open Source has no returns (RMA)")
        spec = _body()
        order = sim.order(spec.get("order_id"))
        rma = sim.create_rma(order["entity_id"], reason=str(spec.get("reason") or "Wrong Size"))
        return jsonify({"id": rma["entity_id"], "order_id": order["entity_id"]}), 202

    @app.get("/__sim/orders/<order_id>")
    def _show_order(order_id: str) -> Response:
        return jsonify(order_json(sim, order_id))


def order_json(sim: MagentoSimulator, order_id: Any) -> dict[str, Any]:
    order = sim.order(order_id)
    currency = order["order_currency_code"]
    memos = [
        {
            "id": m["entity_id"],
            "recorded": minor(m["grand_total"], currency),
            "amount": minor(m["grand_total"], currency) if m["transaction_id"] else 0,
            "online": bool(m["transaction_id"]),
        }
        for m in sim.creditmemos(order["entity_id"])
    ]
    return {
        "id": order["entity_id"],
        "status": order["status"],
        "currency": currency,
        "total": minor(order["grand_total"], currency),
        "payment": {"method": order["payment"]["method"], "reference": order["payment"]["last_trans_id"]},
        "refunded": minor(order.get("total_online_refunded"), currency),
        "refunds": memos,
    }


def _body() -> dict[str, Any]:
    spec = request.get_json(silent=True)
    if not isinstance(spec, dict):
        raise MagentoFault(400, "send a JSON object")
    return spec


def _sku(title: str) -> str:
    return "-".join(title.upper().split()) or "ITEM"
