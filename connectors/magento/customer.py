"""The order a customer names on the hub's request page, by the number Magento shows them (its
``increment_id``), as a request for everything invoiced and not yet refunded."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.magento import transformers as tf
from connectors.magento.client import MagentoClient, MagentoError
from connectors.magento.fetch import OrderView, by_id_or_number
from hub.contracts import Notice, StoreContext
from hub.errors import PlatformUnavailable
from hub.models import RefundRequest


def customer_order(client: MagentoClient, store: StoreContext, number: str) -> RefundRequest | None:
    number = number.strip().lstrip("#")
    if not number.isalnum() or len(number) > 32:
        return None
    try:
        order = by_id_or_number(client, "orders", "orders", {"increment_id": number})
    except (PlatformUnavailable, MagentoError):  # no order with that number
        return None
    view = OrderView(client, order)
    lines = tf.order_lines(view.order, tf.remaining_quantities(view.order), view.products)
    shipping = tf.minor(view.order.get("shipping_amount"), view.currency)
    shipping = max(shipping - tf.minor(view.order.get("shipping_refunded"), view.currency), 0)
    amount = sum(line.total for line in lines) + shipping
    if amount <= 0:
        return None
    notice = Notice("requested", store.id, "customer.request", str(order["entity_id"]), f"customer-order:{number}")
    return view.request(store, notice, lines=lines, amount=amount, shipping=shipping, requested_at=datetime.now(UTC))
