"""The simulated store's REST v3 routes: orders, refunds, products, downloads, notes, webhooks.

Shapes and error envelopes follow WooCommerce (``{"code", "message", "data": {"status"}}``);
collections are paginated with ``per_page``/``page`` and ``X-WP-Total``/``X-WP-TotalPages``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import InvalidOperation
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request

from connectors.woocommerce.sim.coupons import coupon_routes
from connectors.woocommerce.sim.state import RefundRefused
from hub.sandbox.simserver import reset_connection

if TYPE_CHECKING:
    from connectors.woocommerce.sim.server import WooCommerceSimulator

API = "/wp-json/wc/v3"
WEBHOOK_STATUSES = ("active", "paused", "disabled")


class Missing(Exception):
    """No such order, refund, product or webhook: WooCommerce's 404 ``Invalid ID``."""


def error(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify(code=code, message=message, data={"status": status}), status


def rest_routes(app: Flask, sim: WooCommerceSimulator) -> None:
    @app.errorhandler(Missing)
    def _missing(_: Missing) -> Any:
        return error("woocommerce_rest_invalid_id", "Invalid ID.", 404)

    _order_routes(app, sim)
    _refund_routes(app, sim)
    _catalog_routes(app, sim)
    _webhook_routes(app, sim)
    coupon_routes(app, sim)  # what the hub issues instead of a refund


def _known(sim: WooCommerceSimulator, order_id: int) -> None:
    if order_id not in sim.shop.orders:
        raise Missing


def _order_routes(app: Flask, sim: WooCommerceSimulator) -> None:
    """Orders and their notes."""
    shop = sim.shop

    @app.get(f"{API}/orders")
    def list_orders() -> Any:
        failed = sim.take_page_fault("orders", int(request.args.get("page", 1) or 1))
        if failed is not None:
            return error("internal_server_error", f"simulated {failed} on this page", failed)
        rows = [shop.render_order(i) for i in list(shop.orders)]
        if request.args.get("modified_after"):
            after = datetime.fromisoformat(request.args["modified_after"]).replace(tzinfo=None)
            rows = [o for o in rows if datetime.fromisoformat(o["date_modified_gmt"]) > after]
        rows = _listed(rows)
        if request.args.get("status", "any") != "any":
            rows = [o for o in rows if o["status"] in request.args["status"].split(",")]
        field = {"modified": "date_modified_gmt", "id": "id"}.get(request.args.get("orderby", ""), "date_created_gmt")
        rows.sort(key=lambda o: (o[field], o["id"]), reverse=request.args.get("order", "desc") == "desc")
        return _page(rows)

    @app.get(f"{API}/orders/<int:order_id>")
    def get_order(order_id: int) -> Any:
        _known(sim, order_id)
        return jsonify(shop.render_order(order_id))

    @app.put(f"{API}/orders/<int:order_id>")
    def update_order(order_id: int) -> Any:
        _known(sim, order_id)
        data = request.get_json(force=True)
        with shop.lock:
            order = shop.orders[order_id]
            shop.add_meta(order, {m["key"]: m["value"] for m in data.get("meta_data") or ()})
            shop.touch(order, **({"status": data["status"]} if data.get("status") else {}))
        sim.hooks.fire("woocommerce_update_order", order_id)
        return jsonify(shop.render_order(order_id))

    @app.get(f"{API}/orders/<int:order_id>/notes")
    def list_notes(order_id: int) -> Any:
        _known(sim, order_id)
        kind = request.args.get("type", "any")
        notes = [n for n in shop.notes[order_id] if kind == "any" or n["customer_note"] == (kind == "customer")]
        return jsonify(list(reversed(notes)))

    @app.post(f"{API}/orders/<int:order_id>/notes")
    def add_note(order_id: int) -> Any:
        _known(sim, order_id)
        data = request.get_json(force=True)
        return jsonify(shop.add_note(order_id, str(data["note"]), bool(data.get("customer_note")))), 201


def _refund_routes(app: Flask, sim: WooCommerceSimulator) -> None:
    """An order's refunds (``wc_create_refund`` on create), and every refund by id (WooCommerce 9.0+)."""
    shop = sim.shop

    @app.get(f"{API}/orders/<int:order_id>/refunds")
    def list_refunds(order_id: int) -> Any:
        _known(sim, order_id)
        return _page([shop.render_refund(r) for r in shop.refunds_of(order_id)])

    @app.post(f"{API}/orders/<int:order_id>/refunds")
    def create_refund(order_id: int) -> Any:
        """``prepare_object_for_database``: ``wc_create_refund`` (reason, lines, payment, hooks), and
        only then the request's ``meta_data``; ``crash_refund_before_meta`` dies in between."""
        _known(sim, order_id)
        body = request.get_json(force=True)
        crash = sim.take_refund_crash()
        try:
            refund = shop.create_refund(order_id, {**body, "meta_data": []} if crash else body)
        except RefundRefused as exc:
            return error("woocommerce_rest_cannot_create_order_refund", str(exc), 500)
        except (KeyError, ValueError, TypeError, InvalidOperation, AttributeError) as exc:
            return error("woocommerce_rest_invalid_order_refund", f"Invalid refund: {exc}", 400)
        sim.fire_refund_hooks(order_id, refund["id"])
        if crash:  # PHP died (max_execution_time in a refund e-mail, say): no meta, no answer
            reset_connection()
            return Response(status=599)
        return jsonify(shop.render_refund(refund["id"])), 201

    @app.get(f"{API}/orders/<int:order_id>/refunds/<int:refund_id>")
    def get_refund(order_id: int, refund_id: int) -> Any:
        if shop.refunds.get(refund_id, {}).get("_parent") != order_id:
            raise Missing
        return jsonify(shop.render_refund(refund_id))

    @app.get(f"{API}/refunds")
    def all_refunds() -> Any:  # WooCommerce 9.0+
        wanted = {int(i) for i in request.args.get("include", "").split(",") if i.strip().isdigit()}
        ids = sorted((r for r in shop.refunds if not wanted or r in wanted), reverse=True)
        return _page([shop.render_refund(r) for r in ids])


def _catalog_routes(app: Flask, sim: WooCommerceSimulator) -> None:
    """Products (no variations) and a customer's downloads."""
    shop = sim.shop

    @app.get(f"{API}/products/<int:product_id>")
    def get_product(product_id: int) -> Any:
        if product_id not in shop.products:
            raise Missing
        return jsonify(shop.products[product_id])

    @app.get(f"{API}/products/<int:product_id>/variations/<int:variation_id>")
    def get_variation(product_id: int, variation_id: int) -> Any:
        raise Missing

    @app.get(f"{API}/customers/<int:customer_id>/downloads")
    def downloads(customer_id: int) -> Any:
        return jsonify(shop.available_downloads(customer_id))


def _webhook_routes(app: Flask, sim: WooCommerceSimulator) -> None:
    shop = sim.shop

    @app.get(f"{API}/webhooks")
    def list_webhooks() -> Any:
        return _page([sim.hooks.render(i) for i in sorted(shop.webhooks)])

    @app.post(f"{API}/webhooks")
    def create_webhook() -> Any:
        data = request.get_json(force=True)
        topic = str(data.get("topic") or "")
        resource, _, event = topic.partition(".")
        if not (resource == "action" and event) and resource not in ("order", "product", "customer", "coupon"):
            return error("rest_invalid_param", "Invalid parameter(s): topic", 400)
        status = data.get("status", "active")
        created = sim.hooks.add(
            name=str(data.get("name") or f"Webhook created on {topic}"),
            topic=topic,
            secret=str(data.get("secret") or ""),
            delivery_url=str(data["delivery_url"]),
            status=status if status in WEBHOOK_STATUSES else "active",
        )
        return jsonify(sim.hooks.render(created["id"])), 201

    @app.get(f"{API}/webhooks/<int:webhook_id>")
    def get_webhook(webhook_id: int) -> Any:
        if webhook_id not in shop.webhooks:
            raise Missing
        return jsonify(sim.hooks.render(webhook_id))

    @app.put(f"{API}/webhooks/<int:webhook_id>")
    def update_webhook(webhook_id: int) -> Any:
        if webhook_id not in shop.webhooks:
            raise Missing
        data = request.get_json(force=True)
        if data.get("status") not in (None, *WEBHOOK_STATUSES):
            return error("rest_invalid_param", "Invalid parameter(s): status", 400)
        hook = shop.webhooks[webhook_id]
        hook.update({k: data[k] for k in ("status", "name", "delivery_url", "secret") if k in data})
        return jsonify(sim.hooks.render(webhook_id))

    @app.delete(f"{API}/webhooks/<int:webhook_id>")
    def delete_webhook(webhook_id: int) -> Any:
        if webhook_id not in shop.webhooks:
            raise Missing
        rendered = sim.hooks.render(webhook_id)
        del shop.webhooks[webhook_id]
        return jsonify(rendered)


def _listed(rows: list[Any]) -> list[Any]:
    """``customer`` (account id), ``search`` (as WooCommerce: a substring of the billing e-mail or
    name, so ``ann@x.com`` also finds ``joann@x.com``), ``after``/``before`` (exclusive, on the
    creation date; GMT with ``dates_are_gmt``)."""
    args = request.args
    if args.get("customer") not in (None, ""):
        rows = [o for o in rows if int(o["customer_id"]) == int(args["customer"])]
    if args.get("search"):
        needle = args["search"].casefold()
        rows = [o for o in rows if any(needle in str(v).casefold() for v in o["billing"].values())]
    field = "date_created_gmt" if str(args.get("dates_are_gmt", "")).lower() in ("1", "true") else "date_created"
    for bound, keep in (("after", lambda d, b: d > b), ("before", lambda d, b: d < b)):
        if args.get(bound):
            limit = datetime.fromisoformat(args[bound]).replace(tzinfo=None)
            rows = [o for o in rows if keep(datetime.fromisoformat(o[field]), limit)]
    return rows


def _page(rows: list[Any]) -> Response:
    per_page = min(max(int(request.args.get("per_page", 10)), 1), 100)
    page = max(int(request.args.get("page", 1)), 1)
    response = jsonify(rows[(page - 1) * per_page : page * per_page])
    response.headers["X-WP-Total"] = str(len(rows))
    response.headers["X-WP-TotalPages"] = str(max((len(rows) + per_page - 1) // per_page, 1))
    return response
