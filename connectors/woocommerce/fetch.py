"""Re-reading the truth for a notice: the order, its refunds, products and downloads → an event.

The webhook body is never trusted for money: every amount, line and payment reference comes
from the REST API with the store's own keys. A refund carrying the hub's ``_refund_hub_id``
is the echo of the hub's own write-back and is returned with ``hub_refund_id`` set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.woocommerce import transformers as tx
from connectors.woocommerce.asked import Asked, asked_of
from connectors.woocommerce.client import WooClient, WooError
from connectors.woocommerce.downloads import DownloadLog
from connectors.woocommerce.history import customer_history
from connectors.woocommerce.parse import refund_ref, request_ref
from connectors.woocommerce.settings import StoreOptions
from hub.contracts import Notice, StoreContext
from hub.models import Event, Ignored, Line, ProductKind, RefundRecorded, RefundRequest, RefundRequested

CONNECTOR = "woocommerce"


class StoreReader:
    """GETs for one fetch, with products cached (an order lists a product once per line)."""

    def __init__(
        self, client: WooClient, final_sale_meta: str | None = None, analytics: WooClient | None = None
    ) -> None:
        self.client = client
        self.final_sale_meta = final_sale_meta  # the product meta key the merchant marks final sale with
        self.download_log = DownloadLog(analytics)  # the ``wc-analytics`` download report, where served
        self._products: dict[tuple[int, int], tx.ProductFacts] = {}
        self._downloads: dict[str, list[Any]] = {}

    def order(self, order_id: str) -> dict[str, Any] | None:
        return self._maybe(f"orders/{int(order_id)}")

    def refund(self, order_id: str, refund_id: str) -> dict[str, Any] | None:
        return self._maybe(f"orders/{int(order_id)}/refunds/{int(refund_id)}")

    def refunds(self, order_id: str) -> list[dict[str, Any]]:
        return list(self.client.every(f"orders/{int(order_id)}/refunds"))

    def refund_anywhere(self, refund_id: str) -> dict[str, Any] | None:
        """A refund by id alone (``GET /refunds``, WooCommerce 9.0+); None where unknown."""
        found = self._maybe("refunds", {"include": int(refund_id)})
        return found[0] if found else None

    def product(self, item: Mapping[str, Any]) -> tx.ProductFacts:
        key = tx.product_key(item)
        if key not in self._products:
            product_id, variation_id = key
            parent = self._maybe(f"products/{product_id}") if product_id else None
            variation = self._maybe(f"products/{product_id}/variations/{variation_id}") if variation_id else None
            self._products[key] = tx.product_facts(
                variation or parent, parent if variation else None, self.final_sale_meta
            )
        return self._products[key]

    def downloads(self, customer_id: str) -> list[Any]:
        if customer_id not in self._downloads:
            self._downloads[customer_id] = self._maybe(f"customers/{int(customer_id)}/downloads") or []
        return self._downloads[customer_id]

    def _maybe(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            return self.client.get(path, params)
        except WooError as exc:
            if exc.status in (404, 410):
                return None
            raise


def recorded(store: StoreContext, reader: StoreReader, notice: Notice) -> Event:
    """A refund that exists on the platform: WooCommerce moved the money if ``refunded_payment``."""
    refund_id = notice.hints.get("refund_id")
    order_id = notice.order_id
    if order_id is None and refund_id:
        found = reader.refund_anywhere(str(refund_id))
        if found is None:
            return Ignored(
                reason=f"refund {refund_id} not found (GET /refunds needs WooCommerce 9.0+)", topic=notice.topic
            )
        order_id = _parent_of(found)
    order = reader.order(str(order_id)) if order_id else None
    if order is None:
        return Ignored(reason=f"order {order_id} not found", topic=notice.topic)
    if refund_id is None:
        listed = [int(r["id"]) for r in order.get("refunds") or ()]
        if not listed:
            return Ignored(reason=f"order {order_id} has no refund", topic=notice.topic)
        refund_id = str(max(listed))
    refund = reader.refund(str(order_id), str(refund_id))
    if refund is None:
        return Ignored(reason=f"refund {refund_id} of order {order_id} no longer exists", topic=notice.topic)
    currency = order["currency"]
    amount = tx.minor(refund.get("amount"), currency)
    if amount == 0:
        return Ignored(reason=f"refund {refund_id} moves no money", topic=notice.topic)
    marks = tx.hub_refund_meta(refund)
    hub_id = tx.hub_refund_id_of(refund)
    picks = [
        (item, abs(int(item.get("quantity") or 0)), tx.refund_item_origin(item))
        for item in refund.get("line_items") or ()
    ]
    shipping = tx.shipping_total(refund.get("shipping_lines"), currency)
    request = _request(
        store,
        reader,
        order,
        source_ref=refund_ref(refund["id"]),
        amount=amount,
        picks=picks,
        shipping=shipping,
        reason_text=str(refund.get("reason") or ""),
        requested_at=tx.gmt(refund.get("date_created_gmt")),
        refunded_before=tx.refund_total(order.get("refunds") or (), currency, before=int(refund["id"])),
        hub_refund_id=hub_id,
    )
    moved_by_platform = bool(refund.get("refunded_payment"))
    gateway_refund_id = marks.get(tx.HUB_GATEWAY_REFUND_META) or (
        str(refund["id"]) if hub_id and moved_by_platform else None
    )
    # the hub's own write-back: the money moved through the hub, whatever WooCommerce did
    return RefundRecorded(
        request=request, money_moved=moved_by_platform or hub_id is not None, gateway_refund_id=gateway_refund_id
    )


def requested(
    store: StoreContext,
    reader: StoreReader,
    notice: Notice,
    options: StoreOptions,
    reason_meta: str,
    *,
    as_written: bool = True,
) -> Event:
    """A refund request: the lines, units and amount a returns plugin wrote to the order's
    ``_refund_hub_request`` meta (``connectors.woocommerce.asked``), else everything not yet
    refunded on the order (lines, shipping, amount). ``as_written`` False reads the whole order
    whatever the meta says (the hub's customer page offers the customer every line left)."""
    order = reader.order(str(notice.order_id))
    if order is None:
        return Ignored(reason=f"order {notice.order_id} not found", topic=notice.topic)
    status = tx.normalize_status(order.get("status"))
    if notice.hints.get("via") != "action" and status != options.request_status:
        return Ignored(
            reason=f"order {order['id']} is {status}, no longer {options.request_status}", topic=notice.topic
        )
    currency = order["currency"]
    already = tx.refund_total(order.get("refunds") or (), currency)
    left_to_refund = tx.minor(order.get("total"), currency) + tx.gift_card_total(order) - already
    if left_to_refund <= 0:
        return Ignored(reason=f"order {order['id']} is fully refunded", topic=notice.topic)
    asked = asked_of(order) if as_written else None
    refunds = reader.refunds(str(order["id"])) if order.get("refunds") else []
    counts = tx.refunded_quantities(refunds)
    picks = []
    for item in order.get("line_items") or ():
        left = abs(int(item.get("quantity") or 0)) - counts.get(str(item["id"]), 0)
        if asked is not None and asked.quantities is not None:
            left = min(left, asked.quantities.get(str(item["id"]), 0))
        if left > 0:
            picks.append((item, left, str(item["id"])))
    if asked is not None and asked.quantities is not None and not picks:
        return Ignored(reason=f"the lines requested on order {order['id']} are already refunded", topic=notice.topic)
    shipped = sum(tx.minor(order.get(k), currency) for k in ("shipping_total", "shipping_tax"))
    shipping_refunded = sum(tx.shipping_total(r.get("shipping_lines"), currency) for r in refunds)
    shipping_left = max(shipped - shipping_refunded, 0) if asked is None or asked.shipping else 0
    reason = (asked.reason if asked else None) or (
        tx.meta(order.get("meta_data")).get(reason_meta) or str(order.get("customer_note") or "")
    )
    request = _request(
        store,
        reader,
        order,
        source_ref=request_ref(order["id"]),
        amount=left_to_refund,
        picks=picks,
        shipping=min(shipping_left, left_to_refund),
        reason_text=reason,
        requested_at=tx.gmt(order.get("date_modified_gmt")),
        refunded_before=already,
    )
    if asked is not None:
        request = _as_asked(request, asked, shipping_left, left_to_refund)
    count, total = customer_history(reader.client, order)
    customer = request.customer.model_copy(update={"order_count": count, "order_total": total})
    return RefundRequested(request=request.model_copy(update={"customer": customer}))


def _as_asked(request: RefundRequest, asked: Asked, shipping_left: int, left_to_refund: int) -> RefundRequest:
    """The money of a request for some lines or an amount: what the named lines (and shipping,
    if asked) come to, capped by the amount asked and by what is left to refund."""
    amount = left_to_refund
    if asked.quantities is not None:
        amount = min(amount, sum(line.total for line in request.lines) + shipping_left)
    if asked.amount is not None:
        amount = min(amount, tx.minor(asked.amount, request.currency))
    if amount <= 0:
        raise ValueError(f"the request on order {request.order_id} comes to nothing")
    return request.model_copy(update={"amount": amount, "shipping": min(shipping_left, amount)})


def _request(
    store: StoreContext,
    reader: StoreReader,
    order: Mapping[str, Any],
    *,
    source_ref: str,
    amount: int,
    picks: Sequence[tuple[Mapping[str, Any], int, str]],
    shipping: int,
    reason_text: str,
    requested_at: datetime | None,
    refunded_before: int,
    hub_refund_id: str | None = None,
) -> RefundRequest:
    currency = order["currency"]
    pay = tx.payment(order)
    facts = tx.order_facts(order, refunded_before, pay)
    return RefundRequest(
        connector=CONNECTOR,
        store_id=store.id,
        order_id=str(order["id"]),
        source_ref=source_ref,
        customer=tx.customer(order),
        order=facts,
        lines=_lines(reader, order, picks),
        shipping=shipping,
        amount=amount,
        currency=currency,
        reason=tx.reason_code(reason_text),
        reason_text=reason_text,
        payments=((pay,) if pay else ()) + tuple(tx.gift_cards(order)),
        requested_at=requested_at or facts.created_at,
        hub_refund_id=hub_refund_id,
    )


def _lines(
    reader: StoreReader, order: Mapping[str, Any], picks: Sequence[tuple[Mapping[str, Any], int, str]]
) -> tuple[Line, ...]:
    currency = order["currency"]
    order_id = str(order["id"])
    customer_id = str(order.get("customer_id") or 0)
    lines = []
    for item, quantity, line_id in picks:
        facts = reader.product(item)
        usage = None
        if facts.kind is ProductKind.DIGITAL:
            logged = reader.download_log.count(order, item)
            downloads = reader.downloads(customer_id) if customer_id != "0" and logged is None else None
            usage = tx.digital_usage(facts, downloads, order_id, item, logged=logged)
        lines.append(tx.order_line(item, quantity, currency, facts, usage, line_id=line_id))
    return tuple(lines)


def _parent_of(refund: Mapping[str, Any]) -> str | None:
    """The order a refund belongs to: ``parent_id`` where present, else the ``up`` link."""
    if refund.get("parent_id"):
        return str(refund["parent_id"])
    for link in (refund.get("_links") or {}).get("up") or ():
        tail = str(link.get("href", "")).rstrip("/").rsplit("/", 1)[-1]
        if tail.isdigit():
            return tail
    return None
