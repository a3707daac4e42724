"""What part of an order a WooCommerce refund request asks for.

WooCommerce has no refund-request object: a returns plugin (or the merchant) moves the order to
the refund-request status, and without more the hub asks for everything not yet refunded. A
plugin that knows more writes it to the order meta ``_refund_hub_request`` (the hub's own
convention, readable over REST v3 ``meta_data``; docs/policy.md), a JSON object or the same object
as a JSON string::

    {"lines": [{"line_item_id": 311, "quantity": 1}], "amount": "12.50", "shipping": false,
     "reason": "The cover is torn"}

``lines`` (optional) names order line items and units; ``amount`` (optional, a decimal in the
order's currency) caps the money, e.g. a partial refund of a damaged item; ``shipping`` (default
false when lines are named) adds what is left of the shipping; ``reason`` overrides the reason
meta. A value that is there but cannot be read raises ``ValueError`` (the delivery becomes a dead
letter naming the problem), never a request for more than was asked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

REQUEST_META = "_refund_hub_request"


@dataclass(frozen=True)
class Asked:
    quantities: Mapping[str, int] | None  # order line item id -> units; None: every line left
    amount: Decimal | None  # major units; None: what the lines (and shipping) come to
    shipping: bool
    reason: str | None


def asked_of(order: Mapping[str, Any]) -> Asked | None:
    """The request the order's meta describes; None when there is none (the whole order)."""
    raw = _last(order.get("meta_data"))
    if raw is None or raw == "":
        return None
    value = json.loads(raw) if isinstance(raw, str) else raw  # json's errors are ValueErrors
    if not isinstance(value, Mapping):
        raise ValueError(f"{REQUEST_META} must be a JSON object, not {type(value).__name__}")
    quantities = _lines(value.get("lines"), order)
    amount = _amount(value.get("amount"))
    if quantities is None and amount is None:
        raise ValueError(f"{REQUEST_META} names neither lines nor an amount")
    shipping = value.get("shipping", quantities is None)
    if not isinstance(shipping, bool):
        raise ValueError(f"{REQUEST_META}.shipping must be true or false")
    reason = value.get("reason")
    return Asked(quantities, amount, shipping, str(reason) if reason not in (None, "") else None)


def _last(meta: Any) -> Any:
    """The last value of the key, as ``get_meta`` returns it."""
    found = None
    for entry in meta or ():
        if isinstance(entry, Mapping) and entry.get("key") == REQUEST_META:
            found = entry.get("value")
    return found


def _lines(value: Any, order: Mapping[str, Any]) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise ValueError(f"{REQUEST_META}.lines must be a non-empty list")
    ordered = {str(item["id"]): abs(int(item.get("quantity") or 0)) for item in order.get("line_items") or ()}
    wanted: dict[str, int] = {}
    for entry in value:
        if not isinstance(entry, Mapping):
            raise ValueError(f"{REQUEST_META}.lines holds {entry!r}, not an object")
        line_id, quantity = str(entry.get("line_item_id", "")), entry.get("quantity")
        if line_id not in ordered:
            raise ValueError(f"{REQUEST_META} names line item {line_id!r}, which the order does not have")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"{REQUEST_META} line item {line_id}: quantity must be a whole number >= 1")
        wanted[line_id] = wanted.get(line_id, 0) + quantity
        if wanted[line_id] > ordered[line_id]:
            raise ValueError(
                f"{REQUEST_META} asks for {wanted[line_id]} of line item {line_id}; the order has {ordered[line_id]}"
            )
    return wanted


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{REQUEST_META}.amount must be a decimal amount")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{REQUEST_META}.amount {value!r} is not a decimal amount") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"{REQUEST_META}.amount must be more than zero")
    return amount
