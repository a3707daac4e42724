"""What the simulated WooCommerce shop is seeded with, in REST v3 shapes: products, orders, their lines.

Shapes follow ``rest_v3_get_order_response.json`` and friends: money is a decimal string in the
order currency, dates are second-grained with the site in UTC. Each gateway plugin's order meta
is the one the plugin writes (``payment_meta``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hub.models.money import format_decimal, to_minor

PAYMENT_TITLES = {
    "stripe": "Credit Card (Stripe)",
    "ppcp-gateway": "PayPal",
    "square_credit_card": "Credit card (Square)",
    "bacs": "Direct bank transfer",
}


def now_text() -> str:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()


def money(value: Decimal, currency: str) -> str:
    return format_decimal(to_minor(value, currency), currency)


def payment_meta(
    method: str, *, intent_id: str | None, paypal_order_id: str | None, intent: str, captured: bool
) -> dict[str, str]:
    """The order meta each gateway plugin writes (research/platforms.md W3)."""
    if method == "stripe":
        return {"_stripe_intent_id": intent_id or "", "_stripe_charge_captured": "yes" if captured else "no"}
    if method.startswith("ppcp-"):
        return {
            "_ppcp_paypal_order_id": paypal_order_id or "",
            "_ppcp_paypal_intent": intent,
            "_ppcp_paypal_payment_mode": "sandbox",
            "_ppcp_paypal_captured": "true" if captured else "false",
        }
    if method.startswith("square_"):
        return {f"_wc_{method}_charge_captured": "yes" if captured else "no", f"_wc_{method}_environment": "sandbox"}
    return {}


def product(
    product_id: int,
    name: str,
    price: str,
    *,
    virtual: bool,
    downloadable: bool,
    product_type: str,
    download_limit: int,
    sku: str,
    tags: Sequence[str],
    meta_data: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": product_id,
        "name": name,
        "type": product_type,
        "status": "publish",
        "sku": sku,
        "price": price,
        "regular_price": price,
        "virtual": virtual,
        "downloadable": downloadable,
        "download_limit": download_limit,
        "download_expiry": -1,
        "downloads": [],
        "tags": [{"id": i + 1, "name": t, "slug": t.lower()} for i, t in enumerate(tags)],
        "variations": [],
        "meta_data": meta_data or [],
    }


def line_item(
    item_id: int, product: Mapping[str, Any], quantity: int, currency: str, tax_rate: str
) -> tuple[dict[str, Any], Decimal, Decimal]:
    """An order line of ``quantity`` times ``product``, with its total and tax before rounding."""
    total = Decimal(product["price"]) * quantity
    tax = (total * Decimal(tax_rate) / 100).quantize(Decimal("0.01"))
    item = {
        "id": item_id,
        "name": product["name"],
        "product_id": product["id"],
        "variation_id": 0,
        "quantity": quantity,
        "tax_class": "",
        "subtotal": money(total, currency),
        "subtotal_tax": money(tax, currency),
        "total": money(total, currency),
        "total_tax": money(tax, currency),
        "taxes": [{"id": 75, "total": money(tax, currency), "subtotal": money(tax, currency)}] if tax else [],
        "meta_data": [],
        "sku": product["sku"],
        "price": float(product["price"]),
    }
    return item, total, tax


def order(
    order_id: int,
    stamp: str,
    items: list[dict[str, Any]],
    *,
    currency: str,
    payment_method: str,
    transaction_id: str,
    subtotal: Decimal,
    tax_total: Decimal,
    shipping: Decimal,
    customer_id: int,
    email: str,
    status: str,
    meta_data: list[dict[str, Any]],
) -> dict[str, Any]:
    paid = stamp if status in ("processing", "completed", "on-hold") else None
    return {
        "id": order_id,
        "parent_id": 0,
        "number": str(order_id),
        "order_key": f"wc_order_{order_id:x}sim",
        "created_via": "checkout",
        "version": "9.4.0",
        "status": status,
        "currency": currency,
        "date_created": stamp,
        "date_created_gmt": stamp,
        "date_modified": stamp,
        "date_modified_gmt": stamp,
        **_totals(currency, subtotal, tax_total, shipping),
        "customer_id": customer_id,
        "customer_ip_address": "127.0.0.1",
        "customer_user_agent": "",
        "customer_note": "",
        "billing": {"first_name": "Jo", "last_name": "Buyer", "email": email, "country": "US"},
        "shipping": {"first_name": "Jo", "last_name": "Buyer", "country": "US"},
        "payment_method": payment_method,
        "payment_method_title": PAYMENT_TITLES.get(payment_method, payment_method),
        "transaction_id": transaction_id,
        "date_paid": paid,
        "date_paid_gmt": paid,
        "date_completed": None,
        "date_completed_gmt": None,
        "cart_hash": "",
        "meta_data": meta_data,
        "line_items": items,
        "tax_lines": [],
        "shipping_lines": [],
        "fee_lines": [],
        "coupon_lines": [],
    }


def _totals(currency: str, subtotal: Decimal, tax_total: Decimal, shipping: Decimal) -> dict[str, Any]:
    zero = money(Decimal(0), currency)
    return {
        "discount_total": zero,
        "discount_tax": zero,
        "shipping_total": money(shipping, currency),
        "shipping_tax": zero,
        "cart_tax": money(tax_total, currency),
        "total": money(subtotal + tax_total + shipping, currency),
        "total_tax": money(tax_total, currency),
        "prices_include_tax": False,
    }


def shipping_line(item_id: int, shipping: Decimal, currency: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "method_title": "Flat rate",
        "method_id": "flat_rate",
        "total": money(shipping, currency),
        "total_tax": money(Decimal(0), currency),
        "taxes": [],
        "meta_data": [],
    }


def download_permission(
    order: Mapping[str, Any], item: Mapping[str, Any], product: Mapping[str, Any]
) -> dict[str, Any]:
    """The customer's permission to download a downloadable product of a paid order."""
    limit = product["download_limit"]
    return {
        "download_id": f"dl-{item['product_id']}",
        "product_id": item["product_id"],
        "product_name": product["name"],
        "download_name": f"{product['name']} (file)",
        "order_id": order["id"],
        "order_key": order["order_key"],
        "customer_id": order["customer_id"],
        "downloads_remaining": str(limit) if limit > 0 else "unlimited",
        "access_expires": "never",
        "access_expires_gmt": "never",
        "download_count": 0,
    }
