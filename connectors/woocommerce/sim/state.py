"""The simulated WooCommerce shop's data: products, orders, refunds, notes, downloads, webhooks.

Objects are kept in their REST v3 shapes (``rest_v3_get_order_response.json`` and friends) so
rendering is a copy. Money is a decimal string in the order currency, dates are second-grained
with the site in UTC. ``create_refund`` follows ``wc_create_refund``: validation, an optional
payment-plugin refund through ``refund_payment`` (only when ``api_refund`` is true), then the
order's status moves to ``refunded`` once nothing is left.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hub.models.money import format_decimal, to_minor

PaymentRefunder = Callable[[Mapping[str, Any], int, str], "str | None"]


class RefundRefused(Exception):
    """``wc_create_refund`` returned a WP_Error (bad amount, or the payment plugin refused)."""


def now_text() -> str:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()


def money(value: Decimal, currency: str) -> str:
    return format_decimal(to_minor(value, currency), currency)


PAYMENT_TITLES = {
    "stripe": "Credit Card (Stripe)",
    "ppcp-gateway": "PayPal",
    "square_credit_card": "Credit card (Square)",
    "bacs": "Direct bank transfer",
}


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


class Shop:
    """Thread-safe store state; every change bumps the order's ``date_modified``."""

    def __init__(self, home_url: Callable[[], str]) -> None:
        self.home_url = home_url
        self.lock = threading.RLock()
        self._posts = itertools.count(700)
        self._items = itertools.count(300)
        self._metas = itertools.count(13000)
        self.products: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.refunds: dict[int, dict[str, Any]] = {}  # refund id -> refund, with "_parent" kept aside
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.downloads: list[dict[str, Any]] = []
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.refund_payment: PaymentRefunder | None = None
        self.money_moves: list[dict[str, Any]] = []

    # -- products and orders ---------------------------------------------------------------
    def add_product(
        self,
        name: str,
        price: str,
        *,
        virtual: bool = False,
        downloadable: bool = False,
        product_type: str = "simple",
        download_limit: int = -1,
        sku: str = "",
        tags: Sequence[str] = (),
    ) -> dict[str, Any]:
        with self.lock:
            product_id = next(self._posts)
            self.products[product_id] = {
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
            }
            return self.products[product_id]

    def add_order(
        self,
        lines: Sequence[tuple[int, int]],
        *,
        currency: str,
        payment_method: str,
        transaction_id: str,
        shipping: str,
        tax_rate: str,
        customer_id: int,
        email: str,
        status: str,
        meta: Mapping[str, str],
    ) -> dict[str, Any]:
        with self.lock:
            order_id = next(self._posts)
            stamp = now_text()
            items, subtotal, tax_total = [], Decimal(0), Decimal(0)
            for product_id, quantity in lines:
                product = self.products[product_id]
                total = Decimal(product["price"]) * quantity
                tax = (total * Decimal(tax_rate) / 100).quantize(Decimal("0.01"))
                subtotal, tax_total = subtotal + total, tax_total + tax
                items.append(
                    {
                        "id": next(self._items),
                        "name": product["name"],
                        "product_id": product_id,
                        "variation_id": 0,
                        "quantity": quantity,
                        "tax_class": "",
                        "subtotal": money(total, currency),
                        "subtotal_tax": money(tax, currency),
                        "total": money(total, currency),
                        "total_tax": money(tax, currency),
                        "taxes": [{"id": 75, "total": money(tax, currency), "subtotal": money(tax, currency)}]
                        if tax
                        else [],
                        "meta_data": [],
                        "sku": product["sku"],
                        "price": float(product["price"]),
                    }
                )
            ship = Decimal(shipping)
            paid = stamp if status in ("processing", "completed", "on-hold") else None
            order: dict[str, Any] = {
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
                "discount_total": money(Decimal(0), currency),
                "discount_tax": money(Decimal(0), currency),
                "shipping_total": money(ship, currency),
                "shipping_tax": money(Decimal(0), currency),
                "cart_tax": money(tax_total, currency),
                "total": money(subtotal + tax_total + ship, currency),
                "total_tax": money(tax_total, currency),
                "prices_include_tax": False,
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
                "meta_data": self._meta(meta),
                "line_items": items,
                "tax_lines": [],
                "shipping_lines": [],
                "fee_lines": [],
                "coupon_lines": [],
            }
            if ship:
                order["shipping_lines"].append(
                    {
                        "id": next(self._items),
                        "method_title": "Flat rate",
                        "method_id": "flat_rate",
                        "total": money(ship, currency),
                        "total_tax": money(Decimal(0), currency),
                        "taxes": [],
                        "meta_data": [],
                    }
                )
            self.orders[order_id] = order
            self.notes[order_id] = []
            if customer_id and paid:
                self._grant_downloads(order)
            return order

    def _grant_downloads(self, order: Mapping[str, Any]) -> None:
        for item in order["line_items"]:
            product = self.products[item["product_id"]]
            if product["downloadable"]:
                limit = product["download_limit"]
                self.downloads.append(
                    {
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
                )

    def download(self, order_id: int, product_id: int, times: int = 1) -> None:
        """The customer downloads the file; exhausted permissions leave the available list."""
        with self.lock:
            for row in self.downloads:
                if row["order_id"] == order_id and row["product_id"] == product_id:
                    row["download_count"] += times
                    if row["downloads_remaining"] != "unlimited":
                        row["downloads_remaining"] = str(max(int(row["downloads_remaining"]) - times, 0))

    def available_downloads(self, customer_id: int) -> list[dict[str, Any]]:
        rows = [d for d in self.downloads if d["customer_id"] == customer_id and d["downloads_remaining"] != "0"]
        return [{k: v for k, v in d.items() if k not in ("customer_id", "download_count")} for d in rows]

    def touch(self, order: dict[str, Any], **changes: Any) -> None:
        order.update(changes)
        order["date_modified"] = order["date_modified_gmt"] = now_text()

    def add_meta(self, order: dict[str, Any], values: Mapping[str, str]) -> None:
        order["meta_data"].extend(self._meta(values))

    def _meta(self, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"id": next(self._metas), "key": k, "value": v} for k, v in values.items()]

    # -- rendering -------------------------------------------------------------------------
    def render_order(self, order_id: int) -> dict[str, Any]:
        with self.lock:
            order = copy.deepcopy(self.orders[order_id])
            own = sorted((r for r in self.refunds.values() if r["_parent"] == order_id), key=lambda r: -r["id"])
            order["refunds"] = [{"id": r["id"], "reason": r["reason"], "total": f"-{r['amount']}"} for r in own]
            base = f"{self.home_url()}/wp-json/wc/v3/orders"
            order["_links"] = {"self": [{"href": f"{base}/{order_id}"}], "collection": [{"href": base}]}
            return order

    def render_refund(self, refund_id: int) -> dict[str, Any]:
        with self.lock:
            refund = copy.deepcopy(self.refunds[refund_id])
        parent = refund.pop("_parent")
        base = f"{self.home_url()}/wp-json/wc/v3/orders/{parent}"
        refund["_links"] = {
            "self": [{"href": f"{base}/refunds/{refund_id}"}],
            "collection": [{"href": f"{base}/refunds"}],
            "up": [{"href": base}],
        }
        return refund

    def refunds_of(self, order_id: int) -> list[int]:
        return sorted((r["id"] for r in self.refunds.values() if r["_parent"] == order_id), reverse=True)

    # -- refunds ---------------------------------------------------------------------------
    def create_refund(self, order_id: int, body: Mapping[str, Any], *, refunded_by: int = 1) -> dict[str, Any]:
        """``wc_create_refund``: the refund record, and the payment refund only if ``api_refund``."""
        with self.lock:
            order = self.orders[order_id]
            currency = order["currency"]
            amount = Decimal(str(body.get("amount") or "0"))
            left = Decimal(order["total"]) - sum(
                (Decimal(self.refunds[r]["amount"]) for r in self.refunds_of(order_id)), Decimal(0)
            )
            if amount <= 0 or amount > left:
                raise RefundRefused("Invalid refund amount.")
            refund_id = next(self._posts)
            stamp = now_text()
            refund: dict[str, Any] = {
                "id": refund_id,
                "date_created": stamp,
                "date_created_gmt": stamp,
                "amount": money(amount, currency),
                "reason": str(body.get("reason") or ""),
                "refunded_by": refunded_by,
                "refunded_payment": False,
                "meta_data": self._meta({m["key"]: m["value"] for m in body.get("meta_data") or ()}),
                "line_items": [self._refund_item(order, line) for line in body.get("line_items") or ()],
                "_parent": order_id,
            }
            if body.get("api_refund", True):
                gateway_refund = self._pay_out(order, to_minor(amount, currency), refund["reason"])
                refund["refunded_payment"] = True
                self.money_moves.append(
                    {
                        "refund_id": refund_id,
                        "order_id": order_id,
                        "amount": refund["amount"],
                        "currency": currency,
                        "gateway_refund_id": gateway_refund,
                    }
                )
            self.refunds[refund_id] = refund
            fully = amount == left
            self.touch(order, **({"status": "refunded"} if fully else {}))
            return refund

    def _pay_out(self, order: Mapping[str, Any], amount: int, reason: str) -> str | None:
        if order["payment_method"] in ("bacs", "cod", "cheque", ""):
            raise RefundRefused("The payment gateway for this order does not support automatic refunds.")
        if self.refund_payment is None:
            return None
        try:
            return self.refund_payment(order, amount, reason)
        except Exception as exc:  # the plugin's process_refund() failed: WooCommerce rolls the refund back
            raise RefundRefused(str(exc) or "Refund failed.") from exc

    def _refund_item(self, order: Mapping[str, Any], line: Mapping[str, Any]) -> dict[str, Any]:
        currency = order["currency"]
        items = {i["id"]: i for i in order["line_items"] + order["shipping_lines"]}
        original = items[int(line["id"])]
        total = Decimal(str(line.get("refund_total") or "0"))
        tax = sum((Decimal(str(t.get("refund_total") or "0")) for t in line.get("refund_tax") or ()), Decimal(0))
        quantity = int(line.get("quantity") or 0)
        return {
            "id": next(self._items),
            "name": original.get("name") or original.get("method_title"),
            "product_id": original.get("product_id", 0),
            "variation_id": original.get("variation_id", 0),
            "quantity": -quantity,
            "tax_class": "",
            "subtotal": money(-total, currency),
            "subtotal_tax": money(-tax, currency),
            "total": money(-total, currency),
            "total_tax": money(-tax, currency),
            "taxes": [
                {"id": t["id"], "total": money(-Decimal(str(t["refund_total"])), currency), "subtotal": ""}
                for t in line.get("refund_tax") or ()
            ],
            "meta_data": self._meta({"_refunded_item_id": str(original["id"])}),
            "sku": original.get("sku", ""),
            "price": -float(total / quantity) if quantity else 0,
        }

    def add_note(self, order_id: int, text: str, customer_note: bool) -> dict[str, Any]:
        with self.lock:
            stamp = now_text()
            note = {
                "id": next(self._posts),
                "author": "Refund Hub",
                "date_created": stamp,
                "date_created_gmt": stamp,
                "note": text,
                "customer_note": customer_note,
                "added_by_user": False,
            }
            self.notes[order_id].append(note)
            return note
