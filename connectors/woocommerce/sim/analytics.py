"""The simulated store's ``wc-analytics`` download report: ``GET /wp-json/wc-analytics/reports/downloads``.

As WooCommerce's ``Admin\\API\\Reports\\Downloads`` controller answers it from ``wc_download_log``
joined to the download permissions: filters ``order_includes``, ``product_includes``,
``customer_includes`` (comma-separated ids), ``after``/``before`` (inclusive, ISO 8601; an offset is
honoured, none means the site's zone, UTC here), ``page``/``per_page`` (at most 100),
``orderby=date``/``order``; the rows in the report's schema, ``X-WP-Total``/``X-WP-TotalPages``.
Without ``after`` the report starts a week back (``TimeInterval::default_after``), so a caller
counting an older order's downloads must pass its own ``after``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request

if TYPE_CHECKING:
    from connectors.woocommerce.sim.server import WooCommerceSimulator

ANALYTICS = "/wp-json/wc-analytics"


def analytics_routes(app: Flask, sim: WooCommerceSimulator) -> None:
    shop = sim.shop

    @app.get(f"{ANALYTICS}/reports/downloads")
    def download_report() -> Any:
        if sim.analytics_fault is not None:  # WooCommerce Admin off (404 rest_no_route), a key without reports…
            status = sim.analytics_fault
            code = "rest_no_route" if status == 404 else "woocommerce_rest_cannot_view"
            return jsonify(code=code, message=f"simulated {status}", data={"status": status}), status
        args = request.args
        try:
            after = _moment(args.get("after")) or datetime.now(UTC) - timedelta(weeks=1)
            before = _moment(args.get("before")) or datetime.now(UTC)
            orders, products, customers = (
                _ids(args.get(k)) for k in ("order_includes", "product_includes", "customer_includes")
            )
            per_page = int(args.get("per_page", 10))
            page = int(args.get("page", 1))
        except ValueError as exc:
            return _invalid(str(exc))
        if not 1 <= per_page <= 100 or page < 1:
            return _invalid("per_page must be between 1 and 100, page at least 1")
        with shop.lock:
            rows = [
                entry
                for entry in shop.download_log
                if after <= _stamp(entry["timestamp"]) <= before
                and (orders is None or entry["of"]["order_id"] in orders)
                and (products is None or entry["of"]["product_id"] in products)
                and (customers is None or entry["of"]["customer_id"] in customers)
            ]
            rows.sort(key=lambda e: (e["timestamp"], e["id"]), reverse=args.get("order", "desc") != "asc")
            shown = [_row(sim, e) for e in rows[(page - 1) * per_page : page * per_page]]
        response = jsonify(shown)
        response.headers["X-WP-Total"] = str(len(rows))
        response.headers["X-WP-TotalPages"] = str((len(rows) + per_page - 1) // per_page)
        return response


def _row(sim: WooCommerceSimulator, entry: dict[str, Any]) -> dict[str, Any]:
    permission = entry["of"]
    product = sim.shop.products.get(permission["product_id"]) or {}
    return {
        "id": entry["id"],
        "product_id": permission["product_id"],
        "date": entry["timestamp"],
        "date_gmt": entry["timestamp"],
        "download_id": permission["download_id"],
        "file_name": f"{product.get('slug') or permission['product_id']}.zip",
        "file_path": f"{sim.url}/wp-content/uploads/woocommerce_uploads/{permission['download_id']}.zip",
        "order_id": permission["order_id"],
        "order_number": str(permission["order_id"]),
        "user_id": permission["customer_id"],
        "username": f"customer{permission['customer_id']}" if permission["customer_id"] else "",
        "ip_address": entry["ip"],
        "_links": {
            "product": [
                {"href": f"{sim.url}/wp-json/wc-analytics/products/{permission['product_id']}", "embeddable": True}
            ]
        },
    }


def _ids(value: str | None) -> set[int] | None:
    """``wp_parse_id_list``: a comma (or space) separated list; empty means no filter."""
    if not value:
        return None
    return {abs(int(part)) for part in value.replace(" ", ",").split(",") if part}


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _invalid(message: str) -> tuple[Response, int]:
    return jsonify(code="rest_invalid_param", message=f"Invalid parameter(s): {message}", data={"status": 400}), 400
