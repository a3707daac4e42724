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
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.woocommerce.sim import seed
from connectors.woocommerce.sim.seed import money, now_text
from hub.models.money import to_minor
from hub.sandbox.gatewaysim import SimLedger

PaymentRefunder = Callable[[Mapping[str, Any], int, str], "str | None"]


def ledger_refunder(
    ledger: SimLedger, payment_of: Callable[[Mapping[str, Any]], str] = lambda order: str(order["transaction_id"])
) -> PaymentRefunder:
    """A payment plugin for ``refund_payment`` that refunds at a gateway simulator's ``SimLedger``;
    ``payment_of`` picks the ledger's payment id from the order (e.g. its ``_stripe_intent_id``)."""

    def refund(order: Mapping[str, Any], amount: int, reason: str) -> str:
        return ledger.add_dashboard_refund(payment_of(order), amount).id

    return refund


class RefundRefused(Exception):
    """``wc_create_refund`` returned a WP_Error (bad amount, or the payment plugin refused)."""


class Shop:
    """Thread-safe store state; every change bumps the order's ``date_modified``."""

    def __init__(self, home_url: Callable[[], str], first_id: int = 700) -> None:
        """``first_id``: the first post id (orders and refunds); item and meta ids follow from it."""
        self.home_url = home_url
        self.lock = threading.RLock()
        self._posts = itertools.count(first_id)
        self._items = itertools.count(first_id - 400)
        self._metas = itertools.count(first_id + 12300)
        self.products: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.refunds: dict[int, dict[str, Any]] = {}  # refund id -> refund, with "_parent" kept aside
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.downloads: list[dict[str, Any]] = []  # download permissions, registered customers' and guests'
        self.download_log: list[dict[str, Any]] = []  # ``wc_download_log``: one row per download
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
        meta: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            product_id = next(self._posts)
            self.products[product_id] = seed.product(
                product_id,
                name,
                price,
                virtual=virtual,
                downloadable=downloadable,
                product_type=product_type,
                download_limit=download_limit,
                sku=sku,
                tags=tags,
                meta_data=self._meta(meta or {}),
            )
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
        meta: Mapping[str, Any],
        gift_cards: Sequence[tuple[int, str]] = (),
    ) -> dict[str, Any]:
        with self.lock:
            order_id = next(self._posts)
            stamp = now_text()
            items = [
                seed.line_item(next(self._items), self.products[product_id], quantity, currency, tax_rate)
                for product_id, quantity in lines
            ]
            order = seed.order(
                order_id,
                stamp,
                [item for item, _, _ in items],
                currency=currency,
                payment_method=payment_method,
                transaction_id=transaction_id,
                subtotal=sum((total for _, total, _ in items), Decimal(0)),
                tax_total=sum((tax for _, _, tax in items), Decimal(0)),
                shipping=Decimal(shipping),
                customer_id=customer_id,
                email=email,
                status=status,
                meta_data=self._meta(meta),
            )
            if Decimal(shipping):
                order["shipping_lines"].append(seed.shipping_line(next(self._items), Decimal(shipping), currency))
            if gift_cards:  # WooCommerce Gift Cards: redeemed codes pay part; the gateway is charged the rest
                order["gift_cards"] = [{"id": i, "code": f"GC-{i:04d}", "amount": a} for i, a in gift_cards]
                order["total"] = str(Decimal(order["total"]) - sum(Decimal(a) for _, a in gift_cards))
            self.orders[order_id] = order
            self.notes[order_id] = []
            if order["date_paid"]:  # guests get permissions too (by billing e-mail, user id 0)
                self._grant_downloads(order)
            return order

    def _grant_downloads(self, order: Mapping[str, Any]) -> None:
        for item in order["line_items"]:
            product = self.products[item["product_id"]]
            if product["downloadable"]:
                self.downloads.append(seed.download_permission(order, item, product))

    def download(self, order_id: int, product_id: int, times: int = 1, *, ip_address: str = "203.0.113.7") -> None:
        """The customer downloads the file: each download is logged (``WC_Download_Handler``
        writes ``wc_download_log``) and exhausted permissions leave the available list."""
        with self.lock:
            for row in self.downloads:
                if row["order_id"] == order_id and row["product_id"] == product_id:
                    row["download_count"] += times
                    if row["downloads_remaining"] != "unlimited":
                        row["downloads_remaining"] = str(max(int(row["downloads_remaining"]) - times, 0))
                    for _ in range(times):
                        self.download_log.append(
                            {"id": len(self.download_log) + 1, "timestamp": now_text(), "ip": ip_address, "of": row}
                        )

    def available_downloads(self, customer_id: int) -> list[dict[str, Any]]:
        rows = [d for d in self.downloads if d["customer_id"] == customer_id and d["downloads_remaining"] != "0"]
        return [{k: v for k, v in d.items() if k not in ("customer_id", "download_count")} for d in rows]

    def touch(self, order: dict[str, Any], **changes: Any) -> None:
        order.update(changes)
        order["date_modified"] = order["date_modified_gmt"] = now_text()

    def backdate(self, order: dict[str, Any], days: float) -> None:
        """The order as if created (and paid) ``days`` ago: the store's history for the tests."""
        stamp = (datetime.now(UTC) - timedelta(days=days)).replace(microsecond=0, tzinfo=None).isoformat()
        for key in ("date_created", "date_created_gmt", "date_modified", "date_modified_gmt"):
            order[key] = stamp
        if order.get("date_paid_gmt"):
            order["date_paid"] = order["date_paid_gmt"] = stamp

    def add_meta(self, order: dict[str, Any], values: Mapping[str, Any]) -> None:
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
