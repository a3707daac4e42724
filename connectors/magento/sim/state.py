"""The simulated store's data, kept in Magento's own REST shapes, and the rules Magento applies to it.

Orders, invoices, credit memos (offline, and online through a pluggable refund callable), order
comments, products and Adobe Commerce RMAs. Every save of a credit memo or an RMA is reported to
``on_save(event_name, entity)`` so the simulator can fire the Adobe I/O Event for it.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from connectors.magento.bodies import amount as number
from connectors.magento.transformers import minor
from hub.models.money import allocate


class MagentoFault(Exception):
    """A refusal Magento answers with ``{"message": ..., "parameters": [...]}`` and a status."""

    def __init__(self, status: int, message: str, parameters: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message, "parameters": list(parameters)}


NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."
OnlineRefund = Callable[[Mapping[str, Any], int, str], str]
OnSave = Callable[[str, Mapping[str, Any]], None]


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


class MagentoState:
    def __init__(self, online_refund: OnlineRefund, on_save: OnSave, first_id: int = 1) -> None:
        self.online_refund = online_refund
        self.on_save = on_save
        self.lock = threading.RLock()
        self.ids = itertools.count(first_id)
        self.orders: dict[int, dict[str, Any]] = {}
        self.invoices: dict[int, dict[str, Any]] = {}
        self.creditmemos: dict[int, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.returns: dict[int, dict[str, Any]] = {}
        self.shipments: dict[int, dict[str, Any]] = {}

    def next_id(self) -> int:
        return next(self.ids)

    def get(self, table: dict[Any, dict[str, Any]], key: Any) -> dict[str, Any]:
        with self.lock:
            try:
                return copy.deepcopy(table[int(key) if str(key).isdigit() else key])
            except KeyError:
                raise MagentoFault(404, NOT_FOUND) from None

    def rows(self, table: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(table.values()))

    # -- orders -------------------------------------------------------------------------------

    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.orders[order["entity_id"]] = order
            return copy.deepcopy(order)

    def add_invoice(
        self, order_id: int, amount: int | None = None, transaction_id: str | None = None
    ) -> dict[str, Any]:
        """Invoice (capture) the order: all of it, or ``amount`` minor units under its own
        ``transaction_id`` (an order captured in parts has one invoice per capture)."""
        with self.lock:
            order = self.orders[order_id]
            currency = order["order_currency_code"]
            invoice_id = self.next_id()
            items = []
            for item in order["items"]:
                item["qty_invoiced"] = item["qty_ordered"]
                items.append(
                    {
                        "entity_id": self.next_id(),
                        "order_item_id": item["item_id"],
                        "sku": item["sku"],
                        "name": item["name"],
                        "qty": item["qty_ordered"],
                        "price": item["price"],
                        "row_total": item["row_total"],
                        "parent_id": invoice_id,
                    }
                )
            invoice = {
                "entity_id": invoice_id,
                "increment_id": f"{invoice_id:09d}",
                "order_id": order_id,
                "state": 2,
                "grand_total": order["grand_total"] if amount is None else number(amount, currency),
                "order_currency_code": currency,
                "created_at": now(),
                "updated_at": now(),
                "items": items,
                "comments": [],
                "transaction_id": transaction_id or order["payment"].get("last_trans_id"),
            }
            self.invoices[invoice_id] = invoice
            paid = sum(minor(i["grand_total"], currency) for i in self.invoices.values() if i["order_id"] == order_id)
            order["total_invoiced"] = order["total_paid"] = order["payment"]["amount_paid"] = number(paid, currency)
            order["state"], order["status"], order["updated_at"] = "processing", "processing", now()
            return copy.deepcopy(invoice)

    def add_shipment(self, order_id: int, at: str | None = None, track: str | None = None) -> dict[str, Any]:
        """Ship every unshipped unit of the order (``sales-data-shipment-interface``); ``at`` is its
        ``created_at`` (``YYYY-MM-DD HH:MM:SS`` UTC), now by default."""
        with self.lock:
            order = self.orders[order_id]
            shipment_id = self.next_id()
            made = at or now()
            items = []
            for item in order["items"]:
                quantity = item["qty_ordered"] - item.get("qty_shipped", 0)
                if quantity > 0:
                    item["qty_shipped"] = item["qty_ordered"]
                    items.append(
                        {
                            "entity_id": self.next_id(),
                            "order_item_id": item["item_id"],
                            "sku": item["sku"],
                            "name": item["name"],
                            "qty": quantity,
                            "price": item["price"],
                            "parent_id": shipment_id,
                        }
                    )
            tracks = (
                [
                    {
                        "entity_id": self.next_id(),
                        "parent_id": shipment_id,
                        "order_id": order_id,
                        "track_number": track,
                        "title": "United Parcel Service",
                        "carrier_code": "ups",
                        "created_at": made,
                    }
                ]
                if track
                else []
            )
            shipment = {
                "entity_id": shipment_id,
                "increment_id": f"{shipment_id:09d}",
                "order_id": order_id,
                "customer_id": order.get("customer_id"),
                "created_at": made,
                "updated_at": made,
                "shipment_status": None,
                "total_qty": sum(i["qty"] for i in items),
                "email_sent": 0,
                "items": items,
                "tracks": tracks,
                "comments": [],
                "packages": [],
            }
            self.shipments[shipment_id] = shipment
            return copy.deepcopy(shipment)

    def backdate(self, order_id: int, at: str) -> None:
        """The order as if created at ``at`` (``YYYY-MM-DD HH:MM:SS`` UTC): a store's history for tests."""
        with self.lock:
            self.orders[order_id]["created_at"] = at

    def add_comment(self, order_id: Any, history: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            order = self._order(order_id)
            entry = {
                "entity_id": self.next_id(),
                "parent_id": order["entity_id"],
                "created_at": now(),
                "comment": str(history.get("comment") or ""),
                "entity_name": "order",
                "is_customer_notified": int(history.get("is_customer_notified") or 0),
                "is_visible_on_front": int(history.get("is_visible_on_front") or 0),
                "status": history.get("status") or order["status"],
            }
            order["status_histories"].insert(0, entry)
            if history.get("status"):
                order["status"] = history["status"]
            order["updated_at"] = now()
            return copy.deepcopy(entry)

    def set_status(self, order_id: Any, status: str) -> None:
        with self.lock:
            order = self._order(order_id)
            order["status"], order["updated_at"] = status, now()

    def _order(self, order_id: Any) -> dict[str, Any]:
        try:
            return self.orders[int(order_id)]
        except (KeyError, ValueError):
            raise MagentoFault(404, NOT_FOUND) from None

    # -- credit memos --------------------------------------------------------------------------

    def refund_order(self, order_id: Any, body: Mapping[str, Any]) -> int:
        """``POST /V1/order/{id}/refund``: an offline credit memo."""
        return self._creditmemo(self._order(order_id), body, invoice=None, online=False)

    def refund_invoice(self, invoice_id: Any, body: Mapping[str, Any]) -> int:
        """``POST /V1/invoice/{id}/refund``: online only with ``isOnline`` (the money moves)."""
        with self.lock:
            invoice = self.invoices.get(int(invoice_id)) if str(invoice_id).isdigit() else None
            if invoice is None:
                raise MagentoFault(404, NOT_FOUND)
            return self._creditmemo(self.orders[invoice["order_id"]], body, invoice, bool(body.get("isOnline")))

    def _creditmemo(self, order: dict[str, Any], body: Mapping[str, Any], invoice: Any, online: bool) -> int:
        with self.lock:
            currency = order["order_currency_code"]
            lines, totals = self._memo_lines(order, body)
            args = body.get("arguments") or {}
            left_shipping = minor(order["shipping_amount"], currency) - minor(order["shipping_refunded"], currency)
            shipping = minor(args["shipping_amount"], currency) if "shipping_amount" in args else left_shipping
            if shipping > left_shipping:
                raise MagentoFault(
                    400, "Maximum shipping amount allowed to refund is: %1", [number(left_shipping, currency)]
                )
            adjustment = minor(args.get("adjustment_positive"), currency) - minor(
                args.get("adjustment_negative"), currency
            )
            total = totals[0] + totals[1] + shipping + adjustment
            available = minor(order["total_paid"], currency) - minor(order["total_refunded"], currency)
            if total <= 0:
                raise MagentoFault(400, "The credit memo's total must be positive.")
            if total > available:
                raise MagentoFault(400, "The most money available to refund is %1.", [number(available, currency)])
            transaction = self.online_refund(copy.deepcopy(order), total, currency) if online else None
            memo = self._save_memo(order, invoice, lines, totals, shipping, adjustment, total, transaction, body)
        self.on_save("observer.sales_order_creditmemo_save_after", memo)
        return int(memo["entity_id"])

    def _memo_lines(
        self, order: dict[str, Any], body: Mapping[str, Any]
    ) -> tuple[list[dict[str, Any]], tuple[int, int]]:
        currency = order["order_currency_code"]
        by_id = {item["item_id"]: item for item in order["items"]}
        wanted = {int(i["order_item_id"]): int(float(i.get("qty") or 0)) for i in body.get("items") or []}
        if not body.get("items"):
            wanted = {i["item_id"]: int(i["qty_invoiced"] - i["qty_refunded"]) for i in order["items"]}
        lines, subtotal, tax = [], 0, 0
        for item_id, qty in wanted.items():
            item = by_id.get(item_id)
            if item is None:
                raise MagentoFault(400, "The creditmemo contains product item that is not part of the original order.")
            if qty > item["qty_invoiced"] - item["qty_refunded"]:
                raise MagentoFault(400, "The quantity to creditmemo must not be greater than the unrefunded quantity.")
            if qty <= 0:
                continue
            ordered = int(item["qty_ordered"])
            unit = (minor(item["row_total"], currency) - minor(item["discount_amount"], currency)) // ordered
            line_tax = allocate(minor(item["tax_amount"], currency), [qty, ordered - qty])[0]
            subtotal, tax = subtotal + unit * qty, tax + line_tax
            lines.append({"item": item, "qty": qty, "unit": unit, "tax": line_tax})
        return lines, (subtotal, tax)

    def _save_memo(
        self,
        order: dict[str, Any],
        invoice: Any,
        lines: list[dict[str, Any]],
        totals: tuple[int, int],
        shipping: int,
        adjustment: int,
        total: int,
        transaction: str | None,
        body: Mapping[str, Any],
    ) -> dict[str, Any]:
        currency = order["order_currency_code"]
        memo_id = self.next_id()
        items = []
        for line in lines:
            item = line["item"]
            item["qty_refunded"] += line["qty"]
            items.append(
                {
                    "entity_id": self.next_id(),
                    "parent_id": memo_id,
                    "order_item_id": item["item_id"],
                    "sku": item["sku"],
                    "name": item["name"],
                    "product_id": item["product_id"],
                    "qty": line["qty"],
                    "price": number(line["unit"], currency),
                    "row_total": number(line["unit"] * line["qty"], currency),
                    "tax_amount": number(line["tax"], currency),
                    "discount_amount": 0,
                }
            )
        comment = (body.get("comment") or {}).get("comment")
        comments = (
            [
                {
                    "entity_id": self.next_id(),
                    "parent_id": memo_id,
                    "comment": comment,
                    "created_at": now(),
                    "is_customer_notified": int(bool(body.get("notify"))),
                    "is_visible_on_front": int((body.get("comment") or {}).get("is_visible_on_front") or 0),
                }
            ]
            if comment
            else []
        )
        memo = {
            "entity_id": memo_id,
            "increment_id": f"{memo_id:09d}",
            "order_id": order["entity_id"],
            "invoice_id": invoice["entity_id"] if invoice else None,
            "state": 2,
            "creditmemo_status": 2,
            "transaction_id": transaction,
            "order_currency_code": currency,
            "subtotal": number(totals[0], currency),
            "tax_amount": number(totals[1], currency),
            "shipping_amount": number(shipping, currency),
            "adjustment_positive": number(max(adjustment, 0), currency),
            "adjustment_negative": number(max(-adjustment, 0), currency),
            "grand_total": number(total, currency),
            "created_at": now(),
            "updated_at": now(),
            "items": items,
            "comments": comments,
        }
        self.creditmemos[memo_id] = memo
        refunded = minor(order["total_refunded"], currency) + total
        order["total_refunded"] = order["payment"]["amount_refunded"] = number(refunded, currency)
        key = "total_online_refunded" if transaction else "total_offline_refunded"
        order[key] = number(minor(order.get(key), currency) + total, currency)
        order["shipping_refunded"] = number(minor(order["shipping_refunded"], currency) + shipping, currency)
        if refunded >= minor(order["total_paid"], currency):
            order["state"] = order["status"] = "closed"
        order["updated_at"] = now()
        return copy.deepcopy(memo)

    # -- returns (Adobe Commerce RMA) ------------------------------------------------------------

    def add_rma(self, rma: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.returns[rma["entity_id"]] = rma
            saved = copy.deepcopy(rma)
        self.on_save("observer.rma_save_after", saved)
        return saved

    def update_rma(self, rma_id: Any, data: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            rma = self.returns.get(int(rma_id)) if str(rma_id).isdigit() else None
            if rma is None:
                raise MagentoFault(404, NOT_FOUND)
            by_id = {str(item["entity_id"]): item for item in rma["items"]}
            for item in data.get("items") or []:
                if str(item.get("entity_id")) in by_id and item.get("status"):
                    by_id[str(item["entity_id"])]["status"] = item["status"]
            rma["status"] = data.get("status") or rma["status"]
            saved = copy.deepcopy(rma)
        self.on_save("observer.rma_save_after", saved)
        return saved
