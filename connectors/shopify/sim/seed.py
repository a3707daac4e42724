"""Building blocks of what the Shopify simulator is seeded with: order lines, an order's payment, returns.

A payment through a gateway Shopify processes itself (``SHOPIFY_PROCESSED``) opens a payment in
the simulator's own ledger, so ``refundCreate`` can move its money; an outside gateway's payment
carries that gateway's id where Shopify keeps it (``authorizationCode`` and the receipt).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.shopify.sim.refunds import RefundDesk
from connectors.shopify.sim.state import SimLine, SimOrder, SimReturn, SimReturnLine, SimShop, SimTransaction, next_id
from connectors.shopify.transformers import SHOPIFY_PROCESSED

LINE_KINDS = ("physical", "digital", "gift_card", "subscription")


def line(spec: Mapping[str, Any] | tuple[str, int]) -> SimLine:
    """A line from ``{"title", "price", "quantity", "tax", "sku", "kind", "tags", "metafields"}`` or
    ``(title, price)``; ``metafields`` maps ``namespace.key`` to a value (a boolean is typed ``boolean``)."""
    if isinstance(spec, tuple):
        spec = {"title": spec[0], "price": spec[1]}
    kind = spec.get("kind", "physical")
    if kind not in LINE_KINDS:
        raise ValueError(f"unknown line kind {kind!r}")
    return SimLine(
        id=next_id(),
        title=spec["title"],
        price=int(spec["price"]),
        quantity=int(spec.get("quantity", 1)),
        tax=int(spec.get("tax", 0)),
        sku=spec.get("sku"),
        kind=kind,
        tags=tuple(str(t) for t in spec.get("tags") or ()),
        metafields={str(k): _typed(v) for k, v in (spec.get("metafields") or {}).items()},
    )


def _typed(value: Any) -> tuple[str, str]:
    """A metafield value as Shopify stores it: a type and the value as text (``"true"``)."""
    if isinstance(value, bool):
        return "boolean", "true" if value else "false"
    return "single_line_text_field", str(value)


def payment(
    desk: RefundDesk, order: SimOrder, gateway: str, reference: str | None, amount: int | None = None
) -> SimTransaction:
    """A SALE transaction paying ``amount`` of ``order`` (all of it when None) through ``gateway``.
    A ``gift_card`` payment is a Shopify gift card redeemed at checkout: Shopify holds its money."""
    tx = SimTransaction(
        id=next_id(),
        order_id=order.id,
        kind="SALE",
        gateway=gateway,
        amount=order.total if amount is None else amount,
        payment_id=f"c{order.id}.{len(order.transactions) + 1}",
        manual=gateway == "manual",
        created_at=order.created_at,
    )
    label = gateway.lower()
    if label == "gift_card":
        tx.receipt = {"gift_card_id": next_id(), "gift_card_last_characters": secrets.token_hex(2)}
        tx.ledger_id = desk.open_payment(tx, order.currency)
    elif label in SHOPIFY_PROCESSED:
        tx.authorization = secrets.token_hex(6)
        tx.ledger_id = desk.open_payment(tx, order.currency)
    elif label.startswith("stripe"):
        tx.authorization = reference or f"pi_{secrets.token_hex(12)}"
        tx.receipt = {"charge" if tx.authorization.startswith("ch_") else "payment_intent": tx.authorization}
    elif label.startswith("paypal"):
        tx.authorization = reference or secrets.token_hex(8).upper()
        tx.receipt = {"transaction_id": tx.authorization}
    elif label.startswith("square"):
        tx.authorization = reference or secrets.token_hex(11)
        tx.receipt = {"payment_id": tx.authorization}
    else:
        tx.authorization = reference
    return tx


def return_request(
    shop: SimShop, order: SimOrder, lines: Mapping[Any, int] | Iterable[SimLine], reason: str, note: str
) -> SimReturn:
    """A requested return of ``lines`` (``{line or line id: quantity}``, or lines returned in full)."""
    chosen = lines.items() if isinstance(lines, Mapping) else ((line, line.quantity) for line in lines)
    wanted = {(key.id if isinstance(key, SimLine) else key): quantity for key, quantity in chosen}
    return SimReturn(
        id=next_id(),
        order_id=order.id,
        name=f"{order.name}-R{len(shop.returns) + 1}",
        lines=[SimReturnLine(id=next_id(), line_id=k, quantity=v, reason=reason, note=note) for k, v in wanted.items()],
    )
