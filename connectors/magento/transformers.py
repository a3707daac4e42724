"""Pure mappings from Magento's REST and event shapes to the hub's normalized schema.

Magento sends amounts as JSON numbers in the order currency (``base_*`` in the base currency) and
dates as ``YYYY-MM-DD HH:MM:SS`` in UTC. Every function here depends only on its arguments, so it
can be read beside Adobe's docs; the request bodies the hub sends back live in ``bodies.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from hub.models import Customer, DigitalUsage, Line, OrderFacts, Payment, ProductKind, ReasonCode, TenderKind
from hub.models.money import allocate, exponent

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# The hub's refund id travels in credit memo and order comments as ``refund-hub:<id>``; an echo of
# the hub's own write-back is recognised by it (DESIGN.md §2.5).
HUB_TAG = "refund-hub:"
HUB_TAG_RE = re.compile(r"refund-hub:([A-Za-z0-9][A-Za-z0-9_.\-]*)")

# Order item ``product_type`` / product ``type_id`` -> what the policy sees.
PRODUCT_KINDS: dict[str, ProductKind] = {
    "simple": ProductKind.PHYSICAL,
    "configurable": ProductKind.PHYSICAL,
    "bundle": ProductKind.PHYSICAL,
    "grouped": ProductKind.PHYSICAL,
    "virtual": ProductKind.SERVICE,
    "downloadable": ProductKind.DIGITAL,
    "giftcard": ProductKind.GIFT_CARD,
}

# Adobe Commerce RMA status codes (Magento_Rma) -> notice kind. An RMA the merchant has not turned
# down is a refund request; denied, rejected and closed ones are not.
RMA_STATUS_KINDS: dict[str, str] = {
    "pending": "requested",
    "authorized": "requested",
    "partially_authorized": "requested",
    "received": "requested",
    "received_on_item": "requested",
    "approved": "requested",
    "approved_on_item": "requested",
    "denied": "ignored",
    "rejected": "ignored",
    "rejected_on_item": "ignored",
    "closed": "ignored",
    "processed_closed": "ignored",
}

# Words in an RMA reason or a customer's comment -> normalized reason; the first match wins.
# Magento's default RMA reasons are "Wrong Color", "Wrong Size", "Out of Service" and "Other".
REASON_WORDS: dict[str, ReasonCode] = {
    "wrong size": ReasonCode.SIZE_OR_FIT,
    "size": ReasonCode.SIZE_OR_FIT,
    "fit": ReasonCode.SIZE_OR_FIT,
    "wrong color": ReasonCode.WRONG_ITEM,
    "wrong item": ReasonCode.WRONG_ITEM,
    "out of service": ReasonCode.DEFECTIVE,
    "defect": ReasonCode.DEFECTIVE,
    "broken": ReasonCode.DEFECTIVE,
    "damage": ReasonCode.DAMAGED,
    "not received": ReasonCode.NOT_RECEIVED,
    "never arrived": ReasonCode.NOT_RECEIVED,
    "not as described": ReasonCode.NOT_AS_DESCRIBED,
    "changed my mind": ReasonCode.CHANGED_MIND,
    "no longer": ReasonCode.CHANGED_MIND,
    "duplicate": ReasonCode.DUPLICATE,
    "fraud": ReasonCode.FRAUD,
    "cancel": ReasonCode.CANCELLED,
}

# Magento's payment transaction builder names child transactions ``<parent>-capture``; the
# gateway knows the parent id.
TRANSACTION_SUFFIXES = ("-capture",)


def minor(value: Any, currency: str) -> int:
    """A Magento amount (JSON number or decimal string, up to 4 places) in minor units, half up."""
    try:
        amount = Decimal(str(value if value not in (None, "") else 0))
    except InvalidOperation:
        return 0
    return int(amount.scaleb(exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_time(value: Any) -> datetime | None:
    """Magento's ``YYYY-MM-DD HH:MM:SS`` (UTC) or an ISO string, as an aware datetime."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def error_message(body: Any) -> str:
    """Magento's error envelope ``{"message": "... %1 ...", "parameters": [...]}`` as one line."""
    if not isinstance(body, Mapping):
        return str(body)[:300]
    message = str(body.get("message", ""))
    parameters = body.get("parameters") or []
    if isinstance(parameters, Mapping):
        for key, value in parameters.items():
            message = message.replace(f"%{key}", str(value))
    else:
        for index, value in enumerate(parameters, start=1):
            message = message.replace(f"%{index}", str(value))
    return message


def hub_refund_id(comments: Iterable[Any]) -> str | None:
    """The hub refund id written into a comment, if any (comments are dicts or strings)."""
    for comment in comments:
        text = comment.get("comment", "") if isinstance(comment, Mapping) else comment
        found = HUB_TAG_RE.search(str(text or ""))
        if found:
            return found.group(1)
    return None


def reason_code(text: str) -> ReasonCode:
    lowered = text.lower()
    for words, code in REASON_WORDS.items():
        if words in lowered:
            return code
    return ReasonCode.OTHER


def customer(order: Mapping[str, Any]) -> Customer:
    guest = bool(order.get("customer_is_guest")) or order.get("customer_id") in (None, "")
    return Customer(id=None if guest else str(order["customer_id"]), email=order.get("customer_email") or None)


def order_facts(
    order: Mapping[str, Any],
    invoices: Iterable[Mapping[str, Any]],
    *,
    exclude: int = 0,
    shipments: Iterable[Mapping[str, Any]] = (),
) -> OrderFacts:
    """The order's money and dates; ``exclude`` is a refund already counted in ``total_refunded``.
    Fulfilled: the first shipment's ``created_at``; delivered: unknown (Magento records none)."""
    shipped = sorted(t for t in (parse_time(s.get("created_at")) for s in shipments) if t is not None)
    currency = order["order_currency_code"]
    paid = sorted(t for t in (parse_time(i.get("created_at")) for i in invoices) if t is not None)
    created = parse_time(order.get("created_at")) or datetime.now(UTC)
    captured = order.get("total_paid", (order.get("payment") or {}).get("amount_paid", 0))
    return OrderFacts(
        created_at=created,
        paid_at=paid[0] if paid else None,
        fulfilled_at=shipped[0] if shipped else None,
        currency=currency,
        total=minor(order.get("grand_total"), currency),
        captured=minor(captured, currency),
        refunded=max(0, minor(order.get("total_refunded"), currency) - exclude),
    )


def transaction_reference(payment: Mapping[str, Any]) -> str:
    reference = str(payment.get("last_trans_id") or payment.get("cc_trans_id") or "")
    for suffix in TRANSACTION_SUFFIXES:
        if reference.endswith(suffix):
            reference = reference[: -len(suffix)]
    return reference


def payment(order: Mapping[str, Any]) -> Payment:
    """The order's payment: ``method`` is the label routes match, ``last_trans_id`` the gateway id.

    REST returns ``additional_information`` as values without their keys, so it is kept only as a
    readable hint. Offline methods have no transaction id; the order stands in as reference.
    """
    details = order.get("payment") or {}
    currency = order["order_currency_code"]
    extra = {"order_id": str(order["entity_id"]), "increment_id": str(order.get("increment_id") or "")}
    reference = transaction_reference(details)
    if reference.startswith("pi_"):
        extra["stripe_intent_id"] = reference
    values = [str(v) for v in details.get("additional_information") or [] if v not in (None, "")]
    if values:
        extra["additional_information"] = " | ".join(values)[:500]
    return Payment(
        platform_label=str(details.get("method") or "unknown"),
        reference=reference or f"order:{order['entity_id']}",
        captured=minor(details.get("amount_paid", order.get("total_paid", 0)), currency),
        currency=currency,
        extra=extra,
    )


def payments(order: Mapping[str, Any], invoices: Iterable[Mapping[str, Any]]) -> tuple[Payment, ...]:
    """The order's tenders: one per captured invoice when the order was captured in parts (a PayPal
    order invoiced twice is two captures, each refunded on its own), else the order's one payment;
    then the Adobe Commerce gift cards and store credit that paid the rest (``credits``)."""
    paid = payment(order)
    captures: dict[str, Mapping[str, Any]] = {}
    for invoice in invoices:
        reference = transaction_reference({"last_trans_id": invoice.get("transaction_id")})
        if reference and int(invoice.get("state") or 2) == 2:  # 2: paid
            captures.setdefault(reference, invoice)
    if len(captures) < 2:
        return (paid, *credits(order))
    currency = order["order_currency_code"]
    return (
        *(
            paid.model_copy(
                update={
                    "reference": reference,
                    "captured": minor(invoice.get("grand_total"), currency),
                    "extra": {**paid.extra, "invoice_id": str(invoice.get("entity_id") or "")},
                }
            )
            for reference, invoice in captures.items()
        ),
        *credits(order),
    )


GIFT_CARD_LABEL = "giftcardaccount"  # Magento's total codes for the two, the labels routes match
STORE_CREDIT_LABEL = "customerbalance"


def credits(order: Mapping[str, Any]) -> list[Payment]:
    """Adobe Commerce gift card accounts and store credit applied to the order (its extension
    attributes ``gift_cards`` — id, code, amount — ``gift_cards_refunded``, ``customer_balance_amount``
    and ``customer_balance_refunded``): tenders of their own beside the payment, which covers only
    ``grand_total`` (Magento subtracts both before it). Refunded already comes off the first cards.

    No REST call returns money to either (credit memo creation takes no store-credit argument), so
    no route is preset: they take no share of a refund, and what the payment cannot take goes to a
    person, who returns it in the admin's credit memo ("Refund to Store Credit"). A card's code is a
    bearer secret and is not kept."""
    currency = order["order_currency_code"]
    extension = order.get("extension_attributes") or {}
    extra = {"order_id": str(order["entity_id"])}
    found: list[Payment] = []
    refunded = minor(extension.get("gift_cards_refunded") or 0, currency)
    for card in extension.get("gift_cards") or ():
        amount = minor(card.get("amount"), currency)
        if card.get("id") is None or amount <= 0:
            continue
        taken = min(amount, refunded)
        refunded -= taken
        found.append(
            Payment(
                platform_label=GIFT_CARD_LABEL,
                reference=f"giftcard:{card['id']}",
                captured=amount,
                refundable=amount - taken,
                currency=currency,
                extra={**extra, "gift_card_id": str(card["id"])},
                tender=TenderKind.GIFT_CARD,
            )
        )
    balance = minor(extension.get("customer_balance_amount") or 0, currency)
    if balance > 0:
        found.append(
            Payment(
                platform_label=STORE_CREDIT_LABEL,
                reference=f"customerbalance:{order['entity_id']}",
                captured=balance,
                refundable=max(0, balance - minor(extension.get("customer_balance_refunded") or 0, currency)),
                currency=currency,
                extra=extra,
                tender=TenderKind.STORE_CREDIT,
            )
        )
    return found


def product_kind(item: Mapping[str, Any], product: Mapping[str, Any] | None) -> ProductKind:
    type_id = item.get("product_type") or (product or {}).get("type_id") or "simple"
    return PRODUCT_KINDS.get(str(type_id), ProductKind.PHYSICAL)


def _custom_attribute(product: Mapping[str, Any], code: str) -> Any:
    for attribute in product.get("custom_attributes") or []:
        if attribute.get("attribute_code") == code:
            return attribute.get("value")
    return None


def final_sale(product: Mapping[str, Any] | None) -> bool:
    """Adobe Commerce's product attribute ``is_returnable``: 0 no, 1 yes, 2 use the store config."""
    return product is not None and str(_custom_attribute(product, "is_returnable")) == "0"


def digital_usage(item: Mapping[str, Any], product: Mapping[str, Any] | None) -> DigitalUsage | None:
    """Download limits from the product's links; downloads used are not exposed by the admin REST API.

    ``number_of_downloads_used`` lives in ``downloadable_link_purchased_item`` and only reaches the
    customer GraphQL ``customerDownloadableProducts``, so usage stays unknown (None).
    """
    if product_kind(item, product) is not ProductKind.DIGITAL:
        return None
    links = ((product or {}).get("extension_attributes") or {}).get("downloadable_product_links") or []
    limits = [int(link.get("number_of_downloads") or 0) for link in links]
    limited = [n for n in limits if n > 0]
    unlimited = any(n == 0 for n in limits) or not limited
    return DigitalUsage(download_limit=None if unlimited else min(limited))


def priced_item(items_by_id: Mapping[str, Mapping[str, Any]], item: Mapping[str, Any]) -> Mapping[str, Any]:
    """The item carrying the money: a configurable's child line is priced 0 and its parent holds the price."""
    parent = items_by_id.get(str(item.get("parent_item_id") or ""))
    if parent is not None and not float(item.get("price") or 0):
        return parent
    return item


def line(
    item: Mapping[str, Any],
    money: Mapping[str, Any],
    quantity: int,
    currency: str,
    product: Mapping[str, Any] | None,
) -> Line:
    """One refunded order line: net unit price after discount, tax for the refunded quantity."""
    ordered = max(int(float(money.get("qty_ordered") or money.get("qty") or 1)), 1)
    row = money.get("row_total")
    row_net = minor(row if row is not None else float(money.get("price") or 0) * ordered, currency)
    row_net -= minor(money.get("discount_amount"), currency)
    share = min(quantity, ordered)
    tax = allocate(minor(money.get("tax_amount"), currency), [share, ordered - share])[0]
    return Line(
        line_id=str(item.get("item_id") or item.get("order_item_id")),
        sku=item.get("sku"),
        product_id=str(item["product_id"]) if item.get("product_id") not in (None, "") else None,
        title=str(item.get("name") or ""),
        quantity=quantity,
        unit_price=max(row_net, 0) // ordered,
        tax=tax,
        kind=product_kind(item, product),
        final_sale=final_sale(product),
        usage=digital_usage(item, product),
    )


def order_lines(
    order: Mapping[str, Any],
    quantities: Mapping[str, int],
    products: Mapping[str, Mapping[str, Any] | None],
) -> tuple[Line, ...]:
    """Lines for ``{order item id: quantity}``, priced from the order."""
    items = {str(i["item_id"]): i for i in order.get("items") or []}
    currency = order["order_currency_code"]
    lines = []
    for item_id, quantity in quantities.items():
        item = items.get(item_id)
        if item is None or quantity <= 0:
            continue
        lines.append(line(item, priced_item(items, item), quantity, currency, products.get(str(item.get("sku")))))
    return tuple(lines)


def remaining_quantities(order: Mapping[str, Any]) -> dict[str, int]:
    """Invoiced and not yet refunded quantity of each priced line (a whole-order request)."""
    quantities = {}
    for item in order.get("items") or []:
        if item.get("parent_item_id") and not float(item.get("price") or 0):
            continue
        left = int(float(item.get("qty_invoiced") or 0) - float(item.get("qty_refunded") or 0))
        if left > 0:
            quantities[str(item["item_id"])] = left
    return quantities


def rma_quantities(rma: Mapping[str, Any]) -> dict[str, int]:
    """Authorized quantity per order item, or the requested one while the RMA is pending."""
    quantities: dict[str, int] = {}
    for item in rma.get("items") or []:
        quantity = int(float(item.get("qty_authorized") or item.get("qty_requested") or 0))
        key = str(item.get("order_item_id"))
        quantities[key] = quantities.get(key, 0) + quantity
    return quantities


def rma_reason(rma: Mapping[str, Any]) -> tuple[ReasonCode, str]:
    texts = [str(i.get("reason")) for i in rma.get("items") or [] if i.get("reason") not in (None, "")]
    texts += [str(c.get("comment")) for c in rma.get("comments") or [] if c.get("comment")]
    text = "; ".join(dict.fromkeys(texts))
    return reason_code(text), text


def creditmemo_lines(
    creditmemo: Mapping[str, Any],
    order: Mapping[str, Any],
    products: Mapping[str, Mapping[str, Any] | None],
) -> tuple[Line, ...]:
    """The credit memo's refunded lines, priced by the credit memo itself."""
    items = {str(i["item_id"]): i for i in order.get("items") or []}
    currency = creditmemo.get("order_currency_code") or order["order_currency_code"]
    lines = []
    for entry in creditmemo.get("items") or []:
        quantity = int(float(entry.get("qty") or 0))
        ordered = items.get(str(entry.get("order_item_id")), {})
        if quantity <= 0 or (ordered.get("parent_item_id") and not float(entry.get("price") or 0)):
            continue
        described = {**entry, "item_id": entry.get("order_item_id"), "product_type": ordered.get("product_type")}
        lines.append(
            line(described, {**entry, "qty_ordered": quantity}, quantity, currency, products.get(str(entry.get("sku"))))
        )
    return tuple(lines)


def order_ref(order: Mapping[str, Any]) -> str:
    """The order's id in source refs: its ``increment_id``, which every event and list carries
    (Adobe's ``sales_order_save_after`` payload has no ``entity_id``)."""
    return str(order.get("increment_id") or order.get("entity_id") or "")


def order_request_marks(order: Mapping[str, Any], status: str | None, marker: str | None) -> list[dict[str, str]]:
    """How an Open Source order says "refund me": a configured status, or a comment with a marker.

    Each marker comment is its own request; the status counts only when no comment asks. The hub's
    own comments (tagged ``refund-hub:``) never count.
    """
    ref = order_ref(order)
    marks = []
    if marker:
        for history in order.get("status_histories") or []:
            text = str(history.get("comment") or "")
            if marker.lower() in text.lower() and HUB_TAG not in text:
                comment_id = str(history.get("entity_id"))
                marks.append(
                    {
                        "mark": "comment",
                        "comment_id": comment_id,
                        "text": text,
                        "source_ref": f"order:{ref}:comment:{comment_id}",
                    }
                )
    if not marks and status and order.get("status") == status:
        marks.append({"mark": "status", "status": status, "text": "", "source_ref": f"order:{ref}:status:{status}"})
    return marks
