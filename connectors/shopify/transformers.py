"""Pure functions between Shopify's shapes (GraphQL nodes, REST webhook bodies) and the hub's.

Read beside Shopify's docs: status maps are dict literals; money is ``shopMoney`` converted to
integer minor units with the ISO exponent; ids travel as numeric strings inside the hub and as
GraphQL gids (``gid://shopify/Order/123``) on the wire.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from hub.contracts import Execution, Outcome, RefundResult, WriteBack
from hub.models import Line, Payment, ProductKind, ReasonCode, TenderKind
from hub.models.money import format_decimal, normalize_currency, to_minor

# Webhook topic -> notice kind (see parse.py for the hints each carries).
TOPIC_KINDS: dict[str, str] = {
    "returns/request": "requested",
    "returns/approve": "requested",  # merchant-created returns start OPEN and never fire returns/request
    "returns/decline": "ignored",
    "returns/close": "ignored",
    "returns/cancel": "ignored",
    "refunds/create": "recorded",
    "order_transactions/create": "ignored",
    "app/uninstalled": "uninstalled",
    "customers/redact": "redact",
    "shop/redact": "redact",
    "customers/data_request": "data_request",
}

# Gateways whose money Shopify itself moves when refundCreate names them.
SHOPIFY_PROCESSED = frozenset(
    {"shopify_payments", "shopify_installments", "shop_pay_installments", "gift_card", "bogus"}
)

RETURN_REASONS: dict[str, ReasonCode] = {
    "COLOR": ReasonCode.CHANGED_MIND,
    "DEFECTIVE": ReasonCode.DEFECTIVE,  # Shopify shows it as "Damaged or defective"
    "NOT_AS_DESCRIBED": ReasonCode.NOT_AS_DESCRIBED,
    "OTHER": ReasonCode.OTHER,
    "SIZE_TOO_LARGE": ReasonCode.SIZE_OR_FIT,
    "SIZE_TOO_SMALL": ReasonCode.SIZE_OR_FIT,
    "STYLE": ReasonCode.CHANGED_MIND,
    "UNKNOWN": ReasonCode.OTHER,
    "UNWANTED": ReasonCode.CHANGED_MIND,
    "WRONG_ITEM": ReasonCode.WRONG_ITEM,
}

# OrderTransactionStatus of a REFUND transaction -> how far the money is.
TRANSACTION_OUTCOMES: dict[str, Outcome] = {
    "SUCCESS": Outcome.SUCCEEDED,
    "PENDING": Outcome.PENDING,
    "AWAITING_RESPONSE": Outcome.PENDING,
    "FAILURE": Outcome.FAILED,
    "ERROR": Outcome.UNKNOWN,  # "an error while processing": the money may or may not have moved
    "UNKNOWN": Outcome.UNKNOWN,
}

# A refundCreate that did not come back with a refund: what each answer says about the money.
HTTP_OUTCOMES: dict[int, Outcome] = {
    400: Outcome.FAILED,  # malformed request, rejected before anything ran
    401: Outcome.UNAVAILABLE,  # token refused: nothing ran; retry after re-auth
    402: Outcome.UNAVAILABLE,  # shop frozen for unpaid bills
    403: Outcome.FAILED,  # scope missing
    404: Outcome.FAILED,
    423: Outcome.UNAVAILABLE,  # shop locked
    429: Outcome.UNAVAILABLE,  # throttled
}
GRAPHQL_ERROR_OUTCOMES: dict[str, Outcome] = {
    "IDEMPOTENCY_CONCURRENT_REQUEST": Outcome.UNKNOWN,  # the first request with this key is still running
    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH": Outcome.UNKNOWN,  # the key's first request may have moved money
    "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED": Outcome.FAILED,
    "THROTTLED": Outcome.UNAVAILABLE,
    "ACCESS_DENIED": Outcome.FAILED,
    "MAX_COST_EXCEEDED": Outcome.FAILED,
    "undefinedField": Outcome.FAILED,  # schema validation: the operation never ran
    "argumentLiteralsIncompatible": Outcome.FAILED,
    "missingRequiredArguments": Outcome.FAILED,
    "variableMismatch": Outcome.FAILED,
    "INTERNAL_SERVER_ERROR": Outcome.UNKNOWN,
}

PAYMENT_KINDS = ("SALE", "CAPTURE")

_MARKER = re.compile(r"\[refund-hub:([A-Za-z0-9_.:\-]+)\]")
_STRIPE_ID = re.compile(r"^(pi|ch|py)_[A-Za-z0-9]+$")


# ids and scalars ---------------------------------------------------------------------------


def gid(kind: str, value: str | int) -> str:
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def gid_tail(value: str | int | None) -> str | None:
    if value is None or value == "":
        return None
    return str(value).rsplit("/", 1)[-1].split("?", 1)[0]


def when(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else None


def shop_money(money_set: Mapping[str, Any] | None, side: str = "shopMoney") -> tuple[int, str] | None:
    """``{"shopMoney": {"amount": "12.50", "currencyCode": "USD"}}`` -> ``(1250, "USD")``."""
    money = (money_set or {}).get(side)
    if not money:
        return None
    currency = normalize_currency(money["currencyCode"])
    return to_minor(money["amount"], currency), currency


def presentment_money(money_set: Mapping[str, Any] | None) -> tuple[int, str] | None:
    return shop_money(money_set, "presentmentMoney")


def minor(money_set: Mapping[str, Any] | None) -> int:
    value = shop_money(money_set)
    return value[0] if value else 0


def receipt(value: Any) -> dict[str, Any]:
    """``receiptJson`` arrives as an object or as a JSON string depending on the serializer."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


# the hub's own marks in Shopify records ------------------------------------------------------


def marker(hub_refund_id: str) -> str:
    return f"[refund-hub:{hub_refund_id}]"


def hub_note(hub_refund_id: str, text: str) -> str:
    return f"{text.strip()[:200]} {marker(hub_refund_id)}".strip()


def hub_refund_id_in(note: str | None) -> str | None:
    found = _MARKER.search(note or "")
    return found.group(1) if found else None


# payments ----------------------------------------------------------------------------------


def payment_reference(
    gateway: str,
    authorization: str | None,
    receipt_json: Mapping[str, Any],
    payment_id: str | None,
    transaction_id: str,
) -> str:
    """The id the money-moving party knows the payment by.

    Shopify-processed gateways: the OrderTransaction gid (refundCreate's ``parentId``).
    stripe: ``authorizationCode`` when it is a ``pi_``/``ch_``/``py_`` id, else the receipt's
    ``payment_intent``, ``charge`` or ``id``. paypal: ``authorizationCode`` (the PayPal capture /
    transaction id), else the receipt's ``transaction_id``, ``capture_id`` or ``id``. square:
    ``authorizationCode``, else the receipt's ``payment_id`` or ``id``. Any other gateway:
    ``authorizationCode``, else ``paymentId``. Nothing found: the transaction gid.
    """
    label = gateway.lower()
    if label in SHOPIFY_PROCESSED:
        return transaction_id
    if label.startswith("stripe"):
        candidates: Iterable[Any] = (
            authorization,
            receipt_json.get("payment_intent"),
            receipt_json.get("charge"),
            receipt_json.get("id"),
        )
        return next((str(c) for c in candidates if c and _STRIPE_ID.match(str(c))), transaction_id)
    if label.startswith("paypal"):
        candidates = (
            authorization,
            receipt_json.get("transaction_id"),
            receipt_json.get("capture_id"),
            receipt_json.get("id"),
        )
    elif label.startswith("square"):
        candidates = (authorization, receipt_json.get("payment_id"), receipt_json.get("id"))
    else:
        candidates = (authorization, payment_id)
    return next((str(c) for c in candidates if c), transaction_id)


def tender_kind(gateway: str) -> TenderKind:
    """Shopify gift cards and store credit are money the shop holds; anything else is a payment."""
    label = gateway.lower()
    if label == "gift_card":
        return TenderKind.GIFT_CARD
    if "store_credit" in label:
        return TenderKind.STORE_CREDIT
    return TenderKind.PAYMENT


def suggested_lines(lines: Sequence[Line]) -> list[dict[str, Any]]:
    """``RefundLineItemInput`` of the lines, for ``Order.suggestedRefund``."""
    return [{"lineItemId": gid("LineItem", item.line_id), "quantity": item.quantity} for item in lines if item.quantity]


def with_suggestion(found: Sequence[Payment], suggestion: Mapping[str, Any] | None) -> list[Payment]:
    """Each payment with Shopify's suggested share of the refund and its maximum refundable, from
    ``suggestedRefund.suggestedTransactions`` (a payment Shopify left out gets a share of 0)."""
    if not suggestion:
        return list(found)
    by_parent = {(t.get("parentTransaction") or {}).get("id"): t for t in suggestion.get("suggestedTransactions") or ()}
    made = []
    for payment in found:
        tx = by_parent.get(payment.extra.get("transaction_id"))
        if tx is None:
            made.append(payment.model_copy(update={"suggested": 0}))
            continue
        made.append(
            payment.model_copy(
                update={"suggested": minor(tx.get("amountSet")), "refundable": minor(tx.get("maximumRefundableSet"))}
            )
        )
    return made


def payments(order: Mapping[str, Any]) -> list[Payment]:
    """Successful SALE/CAPTURE transactions, in shop money, with what refundCreate needs in ``extra``."""
    found: list[Payment] = []
    for tx in order.get("transactions") or ():
        if tx.get("kind") not in PAYMENT_KINDS or tx.get("status") != "SUCCESS":
            continue
        amount = shop_money(tx.get("amountSet"))
        if amount is None:
            continue
        parent = tx.get("parentTransaction") or {}
        gateway = (tx.get("gateway") or parent.get("gateway") or "unknown").lower()
        shown = presentment_money(tx.get("amountSet")) or amount
        extra = {
            "order_id": order["id"],
            "transaction_id": tx["id"],
            "gateway": tx.get("gateway") or gateway,
            "kind": tx["kind"],
            "shop_amount": str(amount[0]),
            "presentment_amount": str(shown[0]),
            "presentment_currency": shown[1],
        }
        authorization = tx.get("authorizationCode") or parent.get("authorizationCode")
        if authorization:
            extra["authorization"] = authorization
        reference = payment_reference(
            gateway,
            authorization,
            receipt(tx.get("receiptJson")) or receipt(parent.get("receiptJson")),
            tx.get("paymentId") or parent.get("paymentId"),
            tx["id"],
        )
        if reference.startswith("pi_"):
            extra["stripe_intent_id"] = reference
        found.append(
            Payment(
                platform_label=gateway,
                reference=reference,
                captured=amount[0],
                currency=amount[1],
                extra=extra,
                tender=tender_kind(gateway),
            )
        )
    return found


# lines -------------------------------------------------------------------------------------


def product_kind(node: Mapping[str, Any]) -> ProductKind:
    if node.get("isGiftCard"):
        return ProductKind.GIFT_CARD
    if node.get("sellingPlan"):
        return ProductKind.SUBSCRIPTION
    if node.get("requiresShipping") is False:
        return ProductKind.DIGITAL
    return ProductKind.PHYSICAL


def line(node: Mapping[str, Any], quantity: int, *, taxes_included: bool = False) -> Line:
    """An order line item as far as ``quantity`` units of it are refunded (tax prorated, rounded down).

    In a tax-inclusive shop the unit price already holds the tax: the line's total stays exactly what
    the customer paid for those units and the tax is split out of it (to a minor unit).
    """
    unit = minor(node.get("discountedUnitPriceAfterAllDiscountsSet") or node.get("originalUnitPriceSet"))
    tax_total = sum(minor(t.get("priceSet")) for t in node.get("taxLines") or ())
    ordered = int(node.get("quantity") or 0)
    tax = tax_total * quantity // ordered if ordered else 0
    if taxes_included and quantity:
        paid = unit * quantity
        unit = (paid - tax) // quantity
        tax = paid - unit * quantity
    return Line(
        line_id=gid_tail(node["id"]) or "",
        sku=node.get("sku") or None,
        product_id=gid_tail((node.get("product") or {}).get("id")),
        title=node.get("title") or node.get("name") or "",
        quantity=quantity,
        unit_price=unit,
        tax=tax,
        kind=product_kind(node),
    )


def reason_code(reasons: Sequence[str | None]) -> ReasonCode:
    """The most frequent Shopify return reason of the return's lines, normalized."""
    known = [RETURN_REASONS.get(r or "UNKNOWN", ReasonCode.OTHER) for r in reasons]
    if not known:
        return ReasonCode.OTHER
    return max(dict.fromkeys(known), key=known.count)


# refundCreate in and out ---------------------------------------------------------------------


def _converted(amount: int, extra: Mapping[str, str]) -> int:
    """Shop-currency minor units -> presentment minor units at the payment's own rate (rounded down)."""
    shop_total, shown_total = int(extra["shop_amount"]), int(extra["presentment_amount"])
    if shop_total <= 0:
        return amount
    if amount == shop_total:
        return shown_total
    return amount * shown_total // shop_total


def _line_items(lines: Sequence[Line]) -> list[dict[str, Any]]:
    return [
        {"lineItemId": gid("LineItem", item.line_id), "quantity": item.quantity, "restockType": "NO_RESTOCK"}
        for item in lines
        if item.quantity > 0
    ]


def refund_input(execution: Execution, *, notify: bool) -> dict[str, Any]:
    """RefundInput that makes Shopify move ``execution.amount`` back through the payment's gateway.

    Amounts go in the presentment currency when the order's differs from the shop's (Shopify
    requires ``currency`` to be the presentment currency then).
    """
    extra = execution.payment_extra
    order_id = gid("Order", execution.order_id or gid_tail(extra.get("order_id")) or "")
    currency = normalize_currency(execution.currency)
    shown = normalize_currency(extra.get("presentment_currency") or currency)
    amount, shipping = execution.amount, execution.shipping
    body: dict[str, Any] = {
        "orderId": order_id,
        "note": hub_note(execution.hub_refund_id, execution.note or "Refund"),
        "notify": notify,
        "refundLineItems": _line_items(execution.lines),
    }
    if shown != currency:
        amount, shipping, currency = _converted(amount, extra), _converted(shipping, extra), shown
        body["currency"] = shown
    body["transactions"] = [
        {
            "orderId": order_id,
            "parentId": execution.payment_reference,
            "gateway": extra.get("gateway", ""),
            "kind": "REFUND",
            "amount": format_decimal(amount, currency),
        }
    ]
    if shipping:
        body["shipping"] = {"amount": format_decimal(shipping, currency)}
    return body


def record_input(writeback: WriteBack, *, notify: bool = True) -> dict[str, Any]:
    """RefundInput with NO transactions: a refund record that moves no money (its total is the sum of
    its transactions, zero here), marking the lines refunded and carrying the hub refund id.
    ``notify``: Shopify sends the customer its refund e-mail (money refunded at Stripe, PayPal or
    Square is otherwise never told to the customer by Shopify)."""
    amount = format_decimal(writeback.amount, writeback.currency)
    via = f"{writeback.gateway or writeback.route} {writeback.gateway_refund_id or ''}".strip()
    lead = (writeback.note or "Refunded by Refund Hub").rstrip(". ")
    text = f"{lead}: {amount} {writeback.currency} via {via}; Shopify moved no money."
    return {
        "orderId": gid("Order", writeback.order_id),
        "note": hub_note(writeback.hub_refund_id, text.strip()),
        "notify": notify,
        "transactions": [],
        "refundLineItems": _line_items(writeback.lines),
    }


def record_metafield(writeback: WriteBack, recorded_at: str) -> dict[str, Any]:
    key = "refund_" + re.sub(r"[^A-Za-z0-9_-]", "-", writeback.hub_refund_id)[:57]
    value = {
        "hub_refund_id": writeback.hub_refund_id,
        "amount": format_decimal(writeback.amount, writeback.currency),
        "currency": writeback.currency,
        "outcome": writeback.outcome.value,
        "route": writeback.route,
        "gateway": writeback.gateway,
        "gateway_refund_id": writeback.gateway_refund_id,
        "recorded_at": recorded_at,
    }
    return {
        "ownerId": gid("Order", writeback.order_id),
        "namespace": "refund_hub",
        "key": key,
        "type": "json",
        "value": json.dumps(value, sort_keys=True),
    }


def decline_input(return_id: str, explanation: str) -> dict[str, Any]:
    """returnDeclineRequest input; the note is what the customer reads (Shopify caps it at 500)."""
    return {
        "id": gid("Return", return_id),
        "declineReason": "OTHER",
        "declineNote": explanation.strip()[:500],
        "notifyCustomer": True,
    }


def refund_transactions(refund: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    nodes = (refund.get("transactions") or {}).get("nodes") or ()
    return [t for t in nodes if t.get("kind") == "REFUND"]


def refund_result(refund: Mapping[str, Any]) -> RefundResult:
    """How far a Shopify refund's money is, from its REFUND transactions."""
    txs = refund_transactions(refund)
    statuses = [str(t.get("status")) for t in txs]
    outcomes = {TRANSACTION_OUTCOMES.get(s, Outcome.UNKNOWN) for s in statuses}
    if not outcomes or Outcome.UNKNOWN in outcomes:
        outcome = Outcome.UNKNOWN
    elif len(outcomes) == 1:
        outcome = outcomes.pop()
    elif outcomes == {Outcome.SUCCEEDED, Outcome.PENDING}:
        outcome = Outcome.PENDING
    else:  # some legs failed, others went through: a person has to look
        outcome = Outcome.UNKNOWN
    moved = [
        shop_money(t.get("amountSet"))
        for t in txs
        if TRANSACTION_OUTCOMES.get(str(t.get("status"))) in (Outcome.SUCCEEDED, Outcome.PENDING)
    ]
    amounts = [m for m in moved if m]
    return RefundResult(
        outcome=outcome,
        gateway_refund_id=refund.get("id"),
        amount=sum(a for a, _ in amounts) if amounts else None,
        currency=amounts[0][1] if amounts else None,
        raw_status=",".join(statuses) or None,
    )
