"""The simulated store's coupons (``/wc/v3/coupons``): what the hub issues as a refund's
alternative — a fixed-cart coupon bound to the customer's e-mail, usable once.

As WooCommerce does, codes are stored lower-case (``wc_format_coupon_code``) and unique: a second
coupon with a taken code is refused with ``woocommerce_rest_coupon_code_already_exists``; list
filters by ``code``. ``lose_next`` makes the next create succeed but lose its answer (a reset
connection), the case the hub's look-up-first issuing is for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request

from hub.sandbox.simserver import reset_connection

if TYPE_CHECKING:
    from connectors.woocommerce.sim.server import WooCommerceSimulator

API = "/wp-json/wc/v3"


@dataclass
class CouponBook:
    coupons: dict[int, dict[str, Any]] = field(default_factory=dict)
    creates: int = 0  # POSTs answered (or lost): a double issue shows as two
    lose_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def by_code(self, code: str) -> list[dict[str, Any]]:
        return [c for c in self.coupons.values() if c["code"] == code.strip().lower()]


def _refusal(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify(code=code, message=message, data={"status": status}), status


def coupon_routes(app: Flask, sim: WooCommerceSimulator) -> None:
    book = CouponBook()
    sim.coupons = book  # type: ignore[attr-defined]  # the tests' view of what was issued

    @app.get(f"{API}/coupons")
    def list_coupons() -> Any:
        code = request.args.get("code")
        rows = book.by_code(code) if code else list(book.coupons.values())
        return jsonify(rows)

    @app.get(f"{API}/coupons/<int:coupon_id>")
    def get_coupon(coupon_id: int) -> Any:
        found = book.coupons.get(coupon_id)
        return jsonify(found) if found else _refusal("woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.", 404)

    @app.post(f"{API}/coupons")
    def create_coupon() -> Any:
        body = request.get_json(force=True)
        code = str(body.get("code") or "").strip().lower()
        if not code:
            return _refusal("woocommerce_rest_empty_coupon_code", "The coupon code cannot be empty.", 400)
        with book.lock:
            book.creates += 1
            if book.by_code(code):
                return _refusal("woocommerce_rest_coupon_code_already_exists", "The coupon code already exists", 400)
            coupon = _coupon(len(book.coupons) + 1, code, body)
            book.coupons[coupon["id"]] = coupon
            lose = book.lose_next > 0
            book.lose_next -= int(lose)
        if lose:
            reset_connection()
            return Response(status=599)
        return jsonify(coupon), 201


def _coupon(coupon_id: int, code: str, body: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    return {
        "id": coupon_id,
        "code": code,
        "amount": str(body.get("amount") or "0"),
        "date_created": now,
        "date_created_gmt": now,
        "discount_type": body.get("discount_type") or "fixed_cart",
        "description": body.get("description") or "",
        "date_expires": body.get("date_expires"),
        "usage_count": 0,
        "individual_use": bool(body.get("individual_use", False)),
        "usage_limit": body.get("usage_limit"),
        "usage_limit_per_user": body.get("usage_limit_per_user"),
        "email_restrictions": list(body.get("email_restrictions") or []),
        "used_by": [],
        "meta_data": [{"id": i + 1, **m} for i, m in enumerate(body.get("meta_data") or [])],
    }
