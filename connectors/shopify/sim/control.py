"""The Shopify simulator's ``/__sim`` control API: seed orders, ask for returns and read back what
Shopify did, over HTTP, for ``refund-hub demo`` driving a simulator that runs in another process.

- ``POST /__sim/orders`` ``{"shop", "lines": [{"title", "price", "quantity"}] | "amount", "gateway",
  "reference"}`` -> 201 with the order (``id``, ``lines``...). ``gateway`` is the payment label
  (``shopify_payments``, ``stripe``, ``paypal``, ``square``...), ``reference`` the outside gateway's
  payment id. ``shop`` may be left out while the simulator holds exactly one shop.
- ``POST /__sim/returns`` ``{"shop", "order_id", "lines": {line id: quantity}, "reason", "deliveries"}``
  -> 202 ``{"id", "gid", "event_id"}``: fires the signed ``returns/request`` webhook, ``deliveries``
  times with the same ``X-Shopify-Event-Id`` (as Shopify's retries do; default 1).
- ``GET /__sim/orders/<id>?shop=`` -> the order with ``refunded`` (money Shopify sent back) and its
  ``refunds`` (each with the ``amount`` its transactions moved: 0 for a record of an outside refund).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request

from connectors.shopify.sim.state import SimOrder, SimShop

if TYPE_CHECKING:
    from connectors.shopify.sim.server import ShopifySimulator

MAX_DELIVERIES = 5  # a retry storm is not what this endpoint is for


class Refused(Exception):
    """A control request the simulator cannot act on (answered 400/404 with ``{"errors": ...}``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def register(app: Flask, sim: ShopifySimulator) -> None:
    @app.errorhandler(Refused)
    def _refused(exc: Refused) -> tuple[Response, int]:
        return jsonify({"errors": str(exc)}), exc.status

    @app.post("/__sim/orders")
    def _add_order() -> tuple[Response, int]:
        spec = _body()
        shop = _shop(sim, spec)
        lines = spec.get("lines") or [{"title": "Item", "price": spec.get("amount")}]
        if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
            raise Refused("bad order: lines are objects with title, price and quantity")
        try:
            order = sim.add_order(
                shop,
                lines,
                gateway=str(spec.get("gateway") or "shopify_payments"),
                reference=spec.get("reference"),
                email=str(spec.get("email") or "customer@example.com"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Refused(f"bad order: {exc!r}") from None
        return jsonify(order_json(sim, order)), 201

    @app.get("/__sim/orders/<int:order_id>")
    def _show_order(order_id: int) -> Response:
        shop = _shop(sim, request.args)
        return jsonify(order_json(sim, _order(shop, order_id)))

    @app.post("/__sim/returns")
    def _request_return() -> tuple[Response, int]:
        spec = _body()
        shop = _shop(sim, spec)
        order = _order(shop, spec.get("order_id"))
        deliveries = int(spec.get("deliveries", 1))
        if not 1 <= deliveries <= MAX_DELIVERIES:
            raise Refused(f"deliveries must be 1-{MAX_DELIVERIES}")
        wanted = spec.get("lines")
        lines = {int(k): int(v) for k, v in wanted.items()} if isinstance(wanted, Mapping) and wanted else None
        if lines and any(order.line(k) is None for k in lines):
            raise Refused(f"order {order.id} has no line among {sorted(lines)}")
        ret = sim.request_return(order, lines, reason=str(spec.get("reason") or "UNKNOWN"), note=spec.get("note", ""))
        webhook = next(w for w in reversed(sim.webhooks_for("returns/request", shop)) if w.json()["id"] == ret.id)
        for _ in range(deliveries - 1):
            sim.redeliver(webhook)
        return jsonify(
            {
                "id": ret.id,
                "gid": ret.gid,
                "name": ret.name,
                "order_id": order.id,
                "event_id": webhook.headers["X-Shopify-Event-Id"],
                "deliveries": deliveries,
            }
        ), 202


def order_json(sim: ShopifySimulator, order: SimOrder) -> dict[str, Any]:
    """The order with what Shopify moved: ``refunded`` (money Shopify sent back) and each refund
    record with the money its transactions moved (zero for a record of an outside refund)."""
    shop = sim.shops[order.shop]
    refunds = [shop.refunds[i] for i in order.refund_ids]
    return {
        "id": order.id,
        "gid": order.gid,
        "name": order.name,
        "shop": order.shop,
        "currency": order.currency,
        "total": order.total,
        "lines": [{"id": x.id, "title": x.title, "price": x.price, "quantity": x.quantity} for x in order.lines],
        "payment": {"gateway": order.transactions[0].gateway, "reference": order.transactions[0].authorization},
        "refunded": sim.refunded(order),
        "refunds": [
            {
                "id": r.gid,
                "note": r.note,
                "amount": sum(tx.amount for tx in (order.transaction(t) for t in r.transaction_ids) if tx),
            }
            for r in refunds
        ],
    }


def _body() -> dict[str, Any]:
    spec = request.get_json(silent=True)
    if not isinstance(spec, dict):
        raise Refused("send a JSON object")
    return spec


def _shop(sim: ShopifySimulator, spec: Mapping[str, Any]) -> SimShop:
    """The shop named by ``shop``; may be left out while the simulator has exactly one."""
    domain = spec.get("shop")
    if domain is None:
        if len(sim.shops) != 1:
            raise Refused(f"name the shop: one of {sorted(sim.shops)}")
        return next(iter(sim.shops.values()))
    shop = sim.shops.get(str(domain))
    if shop is None:
        raise Refused(f"no shop {domain!r}", 404)
    return shop


def _order(shop: SimShop, order_id: Any) -> SimOrder:
    try:
        order = shop.orders.get(int(order_id))
    except (TypeError, ValueError):
        order = None
    if order is None:
        raise Refused(f"no order {order_id!r} in {shop.domain}", 404)
    return order
