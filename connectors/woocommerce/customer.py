"""The order a customer names on the hub's request page: WooCommerce's order number is its id
(the default; a sequential-numbers plugin would need a search), read like a returns plugin's
request for the whole order — everything not yet refunded, whatever the order's status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.contracts import Notice, StoreContext
from hub.models import RefundRequest, RefundRequested

if TYPE_CHECKING:
    from connectors.woocommerce.connector import WooCommerceConnector


def customer_order(connector: WooCommerceConnector, store: StoreContext, number: str) -> RefundRequest | None:
    number = number.strip().lstrip("#")
    if not number.isdigit() or len(number) > 18:
        return None
    notice = Notice("requested", store.id, "customer.request", number, f"customer-order:{number}", {"via": "action"})
    event = connector.fetch(store, notice)
    return event.request if isinstance(event, RefundRequested) else None
