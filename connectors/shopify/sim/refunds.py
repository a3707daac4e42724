"""The simulator's refunds: ``refundCreate`` as Shopify enforces it, with the money in ``SimLedger``.

Enforced: the mandatory idempotency key (same key and input: the first refund again, nothing
moves; same key, other input: ``IDEMPOTENCY_KEY_PARAMETER_MISMATCH``; after a refused attempt:
``IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED``), refundable quantities and amounts, the presentment
currency, and that only gateways Shopify processes can carry a REFUND transaction. A refund
with no transactions is a record only (its total is zero). Every refund fires ``refunds/create``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from connectors.shopify.sim import rest, shapes
from connectors.shopify.sim.graphql import GraphQLFailure
from connectors.shopify.sim.state import SimOrder, SimRefund, SimShop, SimTransaction, next_id, tail
from connectors.shopify.transformers import SHOPIFY_PROCESSED
from hub.models.money import format_decimal, to_minor
from hub.sandbox.gatewaysim import PENDING, SUCCEEDED, SimError, SimLedger
from hub.sandbox.gatewaysim import SimRefund as LedgerRefund

if TYPE_CHECKING:
    from connectors.shopify.sim.server import ShopifySimulator

LEDGER_STATUS = {PENDING: "PENDING", SUCCEEDED: "SUCCESS"}  # anything else: FAILURE


class RefundDesk:
    def __init__(self, sim: ShopifySimulator, settle_after: float = 0.0) -> None:
        self.sim = sim
        self.ledger = SimLedger(id_prefix="shp_re_", settle_after=settle_after, on_change=self._settled)
        self._legs: dict[str, tuple[SimShop, SimOrder, SimTransaction]] = {}

    def close(self) -> None:
        self.ledger.close()

    def open_payment(self, tx: SimTransaction, currency: str) -> str:
        return self.ledger.create_payment(tx.amount, currency, payment_id=f"shp-{tx.id}").id

    def refund_create(self, shop: SimShop, refund_input: Mapping[str, Any], key: str) -> dict[str, Any]:
        fingerprint = json.dumps(refund_input, sort_keys=True)
        seen = shop.idempotency.get(key)
        if seen is not None:
            if seen[0] != fingerprint:
                raise GraphQLFailure(
                    "The same idempotency key cannot be used with different operation parameters.",
                    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                )
            if seen[1] is None:
                raise GraphQLFailure(
                    "A previous request with this idempotency key failed. Retry with a new idempotency key.",
                    "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
                )
            return {"refund": shapes.refund(shop.refunds[seen[1]], shop, with_order=False), "userErrors": []}
        errors, plan = self._plan(shop, refund_input)
        if errors:
            shop.idempotency[key] = (fingerprint, None)
            return {"refund": None, "userErrors": errors}
        made = self._make(shop, plan, refund_input.get("note"), key)
        shop.idempotency[key] = (fingerprint, made.id)
        return {"refund": shapes.refund(made, shop, with_order=False), "userErrors": []}

    def admin_refund(
        self, shop: SimShop, order: SimOrder, amount: int | None, lines: Mapping[int, int], note: str | None
    ) -> SimRefund:
        """What the merchant's Refund button does: the order's first payment, no API key involved."""
        payment = order.payments[0]
        value = amount if amount is not None else payment.amount - self.ledger.refunded(payment.ledger_id or "")
        refund_input = {
            "orderId": order.gid,
            "note": note,
            "refundLineItems": [{"lineItemId": f"gid://shopify/LineItem/{k}", "quantity": v} for k, v in lines.items()],
            "transactions": [
                {
                    "orderId": order.gid,
                    "parentId": f"gid://shopify/OrderTransaction/{payment.id}",
                    "gateway": payment.gateway,
                    "kind": "REFUND",
                    "amount": format_decimal(order.shown(value), order.shown_currency),
                }
            ],
        }
        if order.presentment_currency:
            refund_input["currency"] = order.presentment_currency
        with self.sim.lock:
            result = self.refund_create(shop, refund_input, f"admin-{secrets.token_hex(8)}")
        if result["userErrors"]:
            raise ValueError(result["userErrors"][0]["message"])
        return shop.refunds[int(result["refund"]["id"].rsplit("/", 1)[-1])]

    def refundable(self, order: SimOrder, parent: SimTransaction) -> int:
        """What can still be refunded on one payment transaction of the order."""
        if parent.ledger_id is not None:
            return parent.amount - self.ledger.refunded(parent.ledger_id)
        back = [t for t in order.transactions if t.kind == "REFUND" and t.parent_id == parent.id]
        return parent.amount - sum(t.amount for t in back if t.status in ("SUCCESS", "PENDING"))

    def suggest(self, order: SimOrder, lines: list[tuple[int, int]], *, shipping: bool = False) -> dict[str, Any]:
        """``Order.suggestedRefund`` for ``(line id, quantity)`` pairs: the lines' price and tax, split
        over the order's payments — the simulator's rule, Shopify's own being undocumented: the
        payment methods first in the order they were paid, gift cards last, each up to its maximum."""
        amount = shipping * order.shipping
        for line_id, quantity in lines:
            line = order.line(line_id)
            if line is not None and quantity > 0:
                amount += line.price * quantity + line.tax * quantity // line.quantity
        parents = sorted(order.payments, key=lambda tx: tx.gateway == "gift_card")
        left, suggested = amount, []
        for parent in parents:
            maximum = self.refundable(order, parent)
            share = min(left, maximum)
            left -= share
            suggested.append(
                {
                    "amountSet": shapes.money(order, share),
                    "maximumRefundableSet": shapes.money(order, maximum),
                    "gateway": parent.gateway,
                    "kind": "SUGGESTED_REFUND",
                    "parentTransaction": {"id": f"gid://shopify/OrderTransaction/{parent.id}"},
                }
            )
        total = amount - left
        return {
            "amountSet": shapes.money(order, total),
            "maximumRefundableSet": shapes.money(order, sum(self.refundable(order, p) for p in parents)),
            "suggestedTransactions": suggested,
        }

    def _plan(self, shop: SimShop, refund_input: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        order = shop.find_order(refund_input.get("orderId"))
        if order is None:
            return [{"field": ["orderId"], "message": "Order does not exist"}], {}
        errors: list[dict[str, Any]] = []
        lines: list[tuple[int, int]] = []
        for index, item in enumerate(refund_input.get("refundLineItems") or ()):
            line = order.line(tail(item.get("lineItemId")))
            quantity = int(item.get("quantity") or 0)
            done = sum(
                q for r in (shop.refunds[i] for i in order.refund_ids) for lid, q in r.lines if line and lid == line.id
            )
            if line is None or quantity <= 0 or quantity > line.quantity - done:
                errors.append(
                    {
                        "field": ["refundLineItems", str(index), "quantity"],
                        "message": "Quantity cannot refund more items than were purchased",
                    }
                )
            else:
                lines.append((line.id, quantity))
        shown = order.shown_currency
        if (refund_input.get("currency") or order.currency) != shown:
            errors.append(
                {"field": ["currency"], "message": f"Currency must be the order's presentment currency {shown}"}
            )
        legs: list[tuple[SimTransaction, int]] = []
        for index, leg in enumerate(refund_input.get("transactions") or ()):
            problem, planned = self._leg(order, leg, legs)
            if problem:
                errors.append({"field": ["transactions", str(index), problem[0]], "message": problem[1]})
            elif planned:
                legs.append(planned)
        return errors, {"order": order, "lines": lines, "legs": legs}

    def _leg(
        self, order: SimOrder, leg: Mapping[str, Any], planned: list[tuple[SimTransaction, int]]
    ) -> tuple[tuple[str, str] | None, tuple[SimTransaction, int] | None]:
        parent = order.transaction(tail(leg.get("parentId")))
        if parent is None or parent.kind not in ("SALE", "CAPTURE") or parent.status != "SUCCESS":
            return ("parentId", "Parent transaction must be a successful sale or capture of this order"), None
        if leg.get("kind") != "REFUND":
            return ("kind", "Only REFUND transactions can be part of a refund"), None
        if leg.get("gateway") != parent.gateway:
            return ("gateway", f"Gateway must be {parent.gateway}, the parent transaction's"), None
        if parent.gateway.lower() not in SHOPIFY_PROCESSED or parent.ledger_id is None:
            return (
                "gateway",
                f"{parent.gateway} payments are not processed by Shopify and cannot be refunded here",
            ), None
        try:
            shown = to_minor(str(leg.get("amount")), order.shown_currency)
        except Exception:  # noqa: BLE001 - any unreadable amount is Shopify's "Amount is invalid"
            return ("amount", "Amount is invalid"), None
        amount = parent.amount if shown == order.shown(parent.amount) else order_amount(order, shown)
        left = parent.amount - self.ledger.refunded(parent.ledger_id) - sum(a for p, a in planned if p is parent)
        if amount <= 0 or amount > left:
            return ("amount", f"Refund amount exceeds the refundable amount of {left} minor units"), None
        return None, (parent, amount)

    def _make(self, shop: SimShop, plan: dict[str, Any], note: str | None, key: str) -> SimRefund:
        order: SimOrder = plan["order"]
        made = SimRefund(id=next_id(), order_id=order.id, note=note, lines=plan["lines"], transaction_ids=[])
        for index, (parent, amount) in enumerate(plan["legs"]):
            tx = SimTransaction(
                id=next_id(),
                order_id=order.id,
                kind="REFUND",
                gateway=parent.gateway,
                amount=amount,
                parent_id=parent.id,
                payment_id=parent.payment_id,
                status="PENDING",
            )
            try:
                moved, _ = self.ledger.refund(
                    parent.ledger_id or "",
                    amount,
                    key=f"{key}#{index}",
                    fingerprint=f"{made.id}:{index}",
                    metadata={"note": note},
                )
            except SimError as exc:  # checked above; a race would land here
                tx.status = "FAILURE"
                tx.receipt = {"error": exc.message}
            else:
                tx.ledger_id = moved.id
                tx.status = LEDGER_STATUS.get(moved.status, "FAILURE")
                self._legs[moved.id] = (shop, order, tx)
            order.transactions.append(tx)
            made.transaction_ids.append(tx.id)
        order.refund_ids.append(made.id)
        shop.refunds[made.id] = made
        self.sim.fire(shop, "refunds/create", rest.refund(order, made))
        for tx in order.transactions:
            if tx.id in made.transaction_ids:
                self.sim.fire(shop, "order_transactions/create", rest.transaction(order, tx))
        return made

    def _settled(self, moved: LedgerRefund) -> None:
        """A pending refund leg reached its final state: update it and tell the app."""
        leg = self._legs.get(moved.id)
        if leg is None:
            return
        shop, order, tx = leg
        status = LEDGER_STATUS.get(moved.status, "FAILURE")
        if status != tx.status:
            tx.status = status
            self.sim.fire(shop, "order_transactions/create", rest.transaction(order, tx))


def order_amount(order: SimOrder, shown: int) -> int:
    """Presentment minor units back to shop minor units at the order's rate (rounded down)."""
    return int((Decimal(shown) / order.rate).to_integral_value(rounding=ROUND_DOWN)) if order.rate else shown
