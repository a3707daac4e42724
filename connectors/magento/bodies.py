"""Pure builders of the bodies and query strings the hub sends to Magento's REST API.

Shapes follow Adobe's REST reference: ``RefundOrderInterface`` / ``RefundInvoiceInterface``
(``items``, ``notify``, ``appendComment``, ``comment``, ``arguments``, and ``isOnline`` for an
invoice), ``statusHistory`` for order comments, ``rmaDataObject`` for RMAs, and ``searchCriteria``
query parameters for every list endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.magento.transformers import HUB_TAG, minor
from hub.models import Line
from hub.models.money import format_decimal

# RMA item status when the merchant turns a return down: still pending -> denied; already
# authorized or received -> rejected (Magento's RMA lifecycle).
DECLINED_ITEM_STATUS: dict[str, str] = {
    "pending": "denied",
    "authorized": "rejected",
    "received": "rejected",
    "approved": "rejected",
}


def amount(minor_units: int, currency: str) -> float:
    """Minor units as the JSON number Magento expects (exact for every ISO exponent)."""
    return float(format_decimal(minor_units, currency))


def hub_comment(hub_refund_id: str, text: str) -> str:
    """A comment carrying the hub's refund id, so the echo of this write is recognised."""
    return f"{text.strip()} ({HUB_TAG}{hub_refund_id})".strip()


def creditmemo(
    order: Mapping[str, Any],
    *,
    lines: Sequence[Line],
    shipping: int,
    total: int,
    comment: str,
    notify: bool,
    online: bool | None = None,
) -> dict[str, Any]:
    """A credit memo for ``total`` minor units: the lines and shipping, and an adjustment for any rest.

    Without lines, a ``total`` equal to what is left refunds the whole rest (empty ``items`` means
    "everything left"); any other total sends every line with quantity 0 and the amount as a
    positive adjustment, which Magento refuses when it exceeds what is left. ``online`` is only
    sent for an invoice refund (``isOnline``).
    """
    currency = order["order_currency_code"]
    arguments: dict[str, Any] = {"adjustment_positive": 0, "adjustment_negative": 0}
    if lines:
        items = [{"order_item_id": int(line.line_id), "qty": line.quantity} for line in lines]
        arguments["shipping_amount"] = amount(shipping, currency)
        rest = total - sum(line.total for line in lines) - shipping
    elif total == refundable(order):
        items, rest = [], 0
    else:
        items = [{"order_item_id": int(i["item_id"]), "qty": 0} for i in order.get("items") or []]
        arguments["shipping_amount"] = 0
        rest = total
    arguments["adjustment_positive" if rest > 0 else "adjustment_negative"] = amount(abs(rest), currency)
    body: dict[str, Any] = {
        "items": items,
        "notify": notify,
        "appendComment": True,
        "comment": {"comment": comment, "is_visible_on_front": 0},
        "arguments": arguments,
    }
    if online is not None:
        body["isOnline"] = online
    return body


def refundable(order: Mapping[str, Any]) -> int:
    currency = order["order_currency_code"]
    return minor(order.get("total_paid"), currency) - minor(order.get("total_refunded"), currency)


def order_comment(order: Mapping[str, Any], text: str, *, visible: bool) -> dict[str, Any]:
    return {
        "statusHistory": {
            "comment": text,
            "is_customer_notified": 1 if visible else 0,
            "is_visible_on_front": 1 if visible else 0,
            "parent_id": int(order["entity_id"]),
            "status": order.get("status"),
        }
    }


def rma_declined(rma: Mapping[str, Any]) -> dict[str, Any]:
    """The RMA with every item turned down; the RMA status follows its items."""
    items = []
    for item in rma.get("items") or []:
        status = DECLINED_ITEM_STATUS.get(str(item.get("status") or "pending"), "rejected")
        items.append({**item, "status": status})
    statuses = {item["status"] for item in items}
    overall = "denied" if statuses == {"denied"} else "rejected"
    return {"rmaDataObject": {**rma, "items": items, "status": overall}}


def search(
    groups: Sequence[Sequence[tuple[str, str, str]]],
    *,
    sort: Sequence[tuple[str, str]] = (),
    page_size: int = 50,
    page: int = 1,
) -> dict[str, str]:
    """``searchCriteria`` query parameters: groups are ANDed, filters inside a group ORed.

    Each filter is ``(field, value, condition_type)``, e.g. ``("updated_at", "2024-01-01 00:00:00", "gteq")``.
    """
    params: dict[str, str] = {}
    for g, group in enumerate(groups):
        for f, (field, value, condition) in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            params[f"{prefix}[field]"] = field
            params[f"{prefix}[value]"] = value
            params[f"{prefix}[condition_type]"] = condition
    for s, (field, direction) in enumerate(sort):
        params[f"searchCriteria[sortOrders][{s}][field]"] = field
        params[f"searchCriteria[sortOrders][{s}][direction]"] = direction
    params["searchCriteria[pageSize]"] = str(page_size)
    params["searchCriteria[currentPage]"] = str(page)
    return params
