"""Re-read a notice's truth from Magento with the store's own credentials and normalize it.

Push and poll share this: a credit memo becomes ``RefundRecorded`` (online ones moved money,
offline ones did not), an RMA or a marked order becomes ``RefundRequested``. The order, its
invoices and its products are always read again; the webhook body is never trusted for money.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.magento import transformers as tf
from connectors.magento.client import MagentoClient, MagentoError, segment
from connectors.magento.history import customer_history
from hub.contracts import Notice, StoreContext
from hub.errors import ParseError, PlatformUnavailable
from hub.models import Event, Ignored, Line, RefundRecorded, RefundRequest, RefundRequested


class OrderView:
    """An order with what normalization needs: invoices, products by SKU, the payment."""

    def __init__(self, client: MagentoClient, order: str | dict[str, Any]) -> None:
        self.order: dict[str, Any] = order if isinstance(order, dict) else client.get(f"orders/{segment(order)}")
        self.client = client
        self.invoices = list(client.search("invoices", [[("order_id", str(self.order["entity_id"]), "eq")]]))
        # shipments give the fulfilment date; Magento records no delivery
        self.shipments = list(client.search("shipments", [[("order_id", str(self.order["entity_id"]), "eq")]]))
        self.products: dict[str, Mapping[str, Any] | None] = {}
        for item in self.order.get("items") or []:
            sku = str(item.get("sku") or "")
            if sku and sku not in self.products:
                self.products[sku] = _product(client, sku)

    @property
    def currency(self) -> str:
        return str(self.order["order_currency_code"])

    def request(
        self,
        store: StoreContext,
        notice: Notice,
        *,
        lines: tuple[Line, ...],
        amount: int,
        shipping: int = 0,
        exclude: int = 0,
        **fields: Any,
    ) -> RefundRequest:
        return RefundRequest(
            connector="magento",
            store_id=store.id,
            order_id=str(self.order["entity_id"]),
            source_ref=str(notice.source_ref),
            delivery_id=notice.hints.get("delivery_id"),
            customer=tf.customer(self.order),
            order=tf.order_facts(self.order, self.invoices, exclude=exclude, shipments=self.shipments),
            lines=lines,
            shipping=shipping,
            amount=amount,
            currency=self.currency,
            payments=tf.payments(self.order, self.invoices),
            **fields,
        )


def _product(client: MagentoClient, sku: str) -> Mapping[str, Any] | None:
    try:
        return client.get(f"products/{segment(sku)}")
    except MagentoError:  # deleted since, or no catalog permission: the order item still says what it was
        return None


def fetch(client: MagentoClient, store: StoreContext, notice: Notice) -> Event:
    entity = notice.hints.get("entity")
    if notice.kind == "ignored":
        return Ignored(reason="not about refunds", topic=notice.topic)
    if entity == "creditmemo":
        return _creditmemo(client, store, notice)
    if entity == "rma":
        return _rma(client, store, notice)
    if entity == "order":
        return _order_request(client, store, notice)
    raise ParseError(f"magento notice without a known entity: {entity!r}")


def comments_of(client: MagentoClient, memo: Mapping[str, Any]) -> list[Any]:
    comments = memo.get("comments")
    if comments is None:
        comments = (client.get(f"creditmemo/{segment(memo['entity_id'])}/comments") or {}).get("items") or []
    return list(comments)


def by_id_or_number(client: MagentoClient, single: str, listing: str, hints: Mapping[str, Any]) -> dict[str, Any]:
    """An entity by ``hints["id"]``, or by ``increment_id`` when the event did not carry the id."""
    if hints.get("id"):
        return client.get(f"{single}/{segment(hints['id'])}")
    found = next(client.search(listing, [[("increment_id", str(hints.get("increment_id")), "eq")]]), None)
    if found is None:  # the event may run ahead of the read replica; ask again later
        raise PlatformUnavailable(f"Magento {listing} {hints.get('increment_id')} not found yet")
    return found


def _creditmemo(client: MagentoClient, store: StoreContext, notice: Notice) -> Event:
    memo = by_id_or_number(client, "creditmemo", "creditmemos", notice.hints)
    comments = comments_of(client, memo)
    view = OrderView(client, str(memo["order_id"]))
    amount = tf.minor(memo.get("grand_total"), view.currency)
    if amount <= 0:
        return Ignored(reason="credit memo of zero", topic=notice.topic)
    transaction = str(memo.get("transaction_id") or "")
    request = view.request(
        store,
        notice,
        lines=tf.creditmemo_lines(memo, view.order, view.products),
        shipping=tf.minor(memo.get("shipping_amount"), view.currency),
        amount=amount,
        exclude=amount,
        reason_text=" ".join(str(c.get("comment") or "") for c in comments).strip(),
        requested_at=_when(memo.get("created_at")),
        hub_refund_id=tf.hub_refund_id(comments),
    )
    # An online credit memo carries the gateway's refund transaction id: the money has moved.
    return RefundRecorded(request=request, money_moved=bool(transaction), gateway_refund_id=transaction or None)


def _rma(client: MagentoClient, store: StoreContext, notice: Notice) -> Event:
    rma: dict[str, Any] = client.get(f"returns/{segment(str(notice.hints['id']))}")
    status = str(rma.get("status") or "pending")
    if tf.RMA_STATUS_KINDS.get(status, "requested") != "requested":
        return Ignored(reason=f"RMA is {status}", topic=notice.topic)
    view = OrderView(client, str(rma["order_id"]))
    lines = tf.order_lines(view.order, tf.rma_quantities(rma), view.products)
    reason, text = tf.rma_reason(rma)
    return _requested(
        view, store, notice, lines, reason=reason, reason_text=text, requested_at=_when(rma.get("date_requested"))
    )


def _order_request(client: MagentoClient, store: StoreContext, notice: Notice) -> Event:
    view = OrderView(client, by_id_or_number(client, "orders", "orders", notice.hints))
    marks = tf.order_request_marks(
        view.order, store.settings.get("refund_request_status"), store.settings.get("refund_request_comment_marker")
    )
    mark = next((m for m in marks if m["source_ref"] == notice.source_ref), None)
    if mark is None:
        return Ignored(reason="order no longer asks for a refund", topic=notice.topic)
    lines = tf.order_lines(view.order, tf.remaining_quantities(view.order), view.products)
    moment = _comment_time(view.order, mark.get("comment_id")) or _when(view.order.get("updated_at"))
    shipping = tf.minor(view.order.get("shipping_amount"), view.currency)
    shipping -= tf.minor(view.order.get("shipping_refunded"), view.currency)
    return _requested(
        view,
        store,
        notice,
        lines,
        shipping=max(shipping, 0),
        reason=tf.reason_code(mark["text"]),
        reason_text=mark["text"],
        requested_at=moment,
    )


def _requested(
    view: OrderView, store: StoreContext, notice: Notice, lines: tuple[Line, ...], shipping: int = 0, **fields: Any
) -> Event:
    amount = sum(line.total for line in lines) + shipping
    if amount <= 0:
        return Ignored(reason="nothing left to refund", topic=notice.topic)
    request = view.request(store, notice, lines=lines, amount=amount, shipping=shipping, **fields)
    count, total = customer_history(view.client, view.order)
    customer = request.customer.model_copy(update={"order_count": count, "order_total": total})
    return RefundRequested(request=request.model_copy(update={"customer": customer}))


def _comment_time(order: Mapping[str, Any], comment_id: str | None) -> datetime | None:
    histories: Iterable[Mapping[str, Any]] = order.get("status_histories") or []
    return next((tf.parse_time(h.get("created_at")) for h in histories if str(h.get("entity_id")) == comment_id), None)


def _when(value: Any) -> datetime:
    return tf.parse_time(value) or datetime.now(UTC)
