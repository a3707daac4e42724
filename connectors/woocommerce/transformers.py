"""Pure functions between WooCommerce REST v3 shapes and the hub's normalized models.

Nothing here does I/O: each function reads the JSON WooCommerce returned (orders, refunds,
products, customer downloads) and returns hub values, or builds the JSON the hub sends.
Money in WooCommerce is a decimal string in the order currency; ``*_gmt`` dates have no offset.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.models import Customer, DigitalUsage, Line, OrderFacts, Payment, ProductKind, ReasonCode, TenderKind
from hub.models.money import allocate, exponent, format_decimal, to_minor

# payment_method ids of the gateway plugins the hub can route (from the plugins' sources,
# research/platforms.md W3); other ids of the same plugins share a prefix.
PAYMENT_FAMILIES: dict[str, str] = {
    "stripe": "stripe",
    "ppcp-gateway": "paypal",
    "ppcp-credit-card-gateway": "paypal",
    "ppcp-card-button-gateway": "paypal",
    "ppcp-googlepay": "paypal",
    "ppcp-applepay": "paypal",
    "ppcp-axo-gateway": "paypal",
    "square_credit_card": "square",
    "square_cash_app_pay": "square",
}
PAYMENT_PREFIXES: dict[str, str] = {"ppcp-": "paypal", "stripe_": "stripe"}

SUBSCRIPTION_TYPES = frozenset({"subscription", "variable-subscription", "subscription_variation"})
GIFT_CARD_TYPES = frozenset({"pw-gift-card", "gift-card"})

# Keyword → reason, first match wins (customer wording from returns plugins and refund reasons).
REASON_KEYWORDS: dict[str, ReasonCode] = {
    "not received": ReasonCode.NOT_RECEIVED,
    "never arrived": ReasonCode.NOT_RECEIVED,
    "didn't arrive": ReasonCode.NOT_RECEIVED,
    "not as described": ReasonCode.NOT_AS_DESCRIBED,
    "damaged": ReasonCode.DAMAGED,
    "broken": ReasonCode.DAMAGED,
    "defect": ReasonCode.DEFECTIVE,
    "faulty": ReasonCode.DEFECTIVE,
    "doesn't work": ReasonCode.DEFECTIVE,
    "wrong": ReasonCode.WRONG_ITEM,
    "size": ReasonCode.SIZE_OR_FIT,
    "fit": ReasonCode.SIZE_OR_FIT,
    "changed my mind": ReasonCode.CHANGED_MIND,
    "no longer": ReasonCode.CHANGED_MIND,
    "duplicate": ReasonCode.DUPLICATE,
    "fraud": ReasonCode.FRAUD,
    "cancel": ReasonCode.CANCELLED,
}

TRACKING_META = "_wc_shipment_tracking_items"
TRUE_WORDS = frozenset({"yes", "1", "true", "on"})

HUB_ID_META = "_refund_hub_id"
HUB_KEY_META = "_refund_hub_idempotency_key"
HUB_GATEWAY_META = "_refund_hub_gateway"
HUB_GATEWAY_REFUND_META = "_refund_hub_gateway_refund_id"
# The hub id also rides in the refund's reason: ``wc_create_refund`` saves the reason with the
# refund itself, while the REST controller saves ``meta_data`` only afterwards (after the payment
# plugin, the refund e-mails and hooks ran), so a request that died in between left the reason only.
HUB_REASON_MARK = "[refund-hub:{}]"
_HUB_REASON = re.compile(r"\[refund-hub:([A-Za-z0-9_.-]{1,100})\]")


def payment_family(method: str) -> str | None:
    """The hub gateway family of a WooCommerce ``payment_method`` id, or None."""
    if method in PAYMENT_FAMILIES:
        return PAYMENT_FAMILIES[method]
    return next((family for prefix, family in PAYMENT_PREFIXES.items() if method.startswith(prefix)), None)


def meta(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """``meta_data`` as a dict; the last value of a repeated key wins, like ``get_meta``."""
    return {str(m.get("key")): "" if m.get("value") is None else str(m.get("value")) for m in items or ()}


def minor(amount: Any, currency: str, *, exact: bool = True) -> int:
    """A WooCommerce decimal string (possibly negative or empty) as positive minor units.

    ``exact=False`` rounds half up instead of refusing extra places (for weights, never for amounts).
    """
    value = Decimal(str(amount).strip() if amount not in (None, "") else "0")
    if not exact:
        value = value.scaleb(exponent(currency)).to_integral_value(ROUND_HALF_UP).scaleb(-exponent(currency))
    return abs(to_minor(value, currency))


def gmt(value: str | None) -> datetime | None:
    """A ``*_gmt`` field (ISO 8601 without offset) as an aware UTC datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def gmt_text(moment: datetime) -> str:
    """A datetime as WooCommerce's GMT query format (``modified_after`` with ``dates_are_gmt``)."""
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


def per_unit(total: int, quantity: int) -> int:
    """Unit price from a line total, rounded half up (WooCommerce stores totals, not unit prices)."""
    return (total + quantity // 2) // quantity if quantity else 0


def reason_code(text: str) -> ReasonCode:
    lowered = text.lower()
    return next((code for word, code in REASON_KEYWORDS.items() if word in lowered), ReasonCode.OTHER)


def normalize_status(status: str | None) -> str:
    """Order statuses come without ``wc-`` over REST; settings may carry it."""
    text = (status or "").strip().lower()
    return text[3:] if text.startswith("wc-") else text


def customer(order: Mapping[str, Any]) -> Customer:
    customer_id = order.get("customer_id") or 0
    email = (order.get("billing") or {}).get("email") or None
    return Customer(id=str(customer_id) if customer_id else None, email=email)


def payment(order: Mapping[str, Any]) -> Payment | None:
    """The order's payment: label, gateway reference and the meta the gateway plugin left."""
    method = order.get("payment_method") or ""
    if not method:
        return None
    currency = order["currency"]
    values = meta(order.get("meta_data"))
    family = payment_family(method)
    extra: dict[str, str] = {"order_id": str(order["id"])}
    captured = True
    if family == "stripe":
        _copy(values, extra, {"_stripe_intent_id": "stripe_intent_id"})
        captured = values.get("_stripe_charge_captured", "yes") != "no"
    elif family == "paypal":
        _copy(values, extra, {"_ppcp_paypal_order_id": "paypal_order_id", "_ppcp_paypal_payment_mode": "mode"})
        intent = (values.get("_ppcp_paypal_intent") or "CAPTURE").upper()
        extra["intent"] = intent
        # an AUTHORIZE order whose authorization was never captured is voided, not refunded
        captured = intent != "AUTHORIZE" or values.get("_ppcp_paypal_captured", "").lower() in ("true", "1", "yes")
    elif family == "square":
        prefix = f"_wc_{method}_"
        _copy(
            values, extra, {f"{prefix}square_order_id": "square_order_id", f"{prefix}square_location_id": "location_id"}
        )
        captured = values.get(f"{prefix}charge_captured", "yes") != "no"
    extra["captured"] = "true" if captured else "false"
    paid = bool(order.get("date_paid_gmt"))
    amount = minor(order.get("total"), currency) if paid and captured else 0
    return Payment(
        platform_label=method,
        reference=str(order.get("transaction_id") or ""),
        captured=amount,
        currency=currency,
        extra=extra,
    )


def gift_cards(order: Mapping[str, Any]) -> list[Payment]:
    """Gift cards redeemed on the order (WooCommerce Gift Cards lists them in the order's
    ``gift_cards``: ``id``, ``code``, ``amount``): tenders of their own, beside the payment, which
    covers the order's ``total`` only. The code is a bearer secret and is not kept."""
    currency = order["currency"]
    found = []
    for card in order.get("gift_cards") or ():
        amount = minor(card.get("amount"), currency)
        if card.get("id") is None or amount <= 0:
            continue
        found.append(
            Payment(
                platform_label="gift_card",
                reference=f"gift_card:{card['id']}",
                captured=amount,
                currency=currency,
                extra={"order_id": str(order["id"]), "gift_card_id": str(card["id"])},
                tender=TenderKind.GIFT_CARD,
            )
        )
    return found


def _copy(source: Mapping[str, str], target: dict[str, str], keys: Mapping[str, str]) -> None:
    for key, name in keys.items():
        if source.get(key):
            target[name] = source[key]


def meta_value(items: Iterable[Mapping[str, Any]] | None, key: str) -> Any:
    """One ``meta_data`` value as WooCommerce gave it (an array stays an array); the last wins."""
    found = None
    for item in items or ():
        if item.get("key") == key:
            found = item.get("value")
    return found


def shipped_at(order: Mapping[str, Any]) -> datetime | None:
    """The first shipment's date from the WooCommerce Shipment Tracking extension's order meta
    (``_wc_shipment_tracking_items``: one item per parcel, ``date_shipped`` a Unix timestamp)."""
    items = meta_value(order.get("meta_data"), TRACKING_META)
    stamps = [
        int(str(item.get("date_shipped")).strip())
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, Mapping) and str(item.get("date_shipped") or "").strip().isdigit()
    ]
    return datetime.fromtimestamp(min(stamps), UTC) if stamps else None


def order_facts(order: Mapping[str, Any], refunded: int, pay: Payment | None) -> OrderFacts:
    currency = order["currency"]
    created = gmt(order.get("date_created_gmt"))
    if created is None:
        raise ValueError(f"order {order.get('id')} has no date_created_gmt")
    redeemed = gift_card_total(order)  # gift cards paid the rest of the order, beside its ``total``
    return OrderFacts(
        created_at=created,
        paid_at=gmt(order.get("date_paid_gmt")),
        # shipped (Shipment Tracking) where recorded, else completed; core records no delivery
        fulfilled_at=shipped_at(order) or gmt(order.get("date_completed_gmt")),
        currency=currency,
        total=minor(order.get("total"), currency) + redeemed,
        captured=(pay.captured if pay else 0) + redeemed,
        refunded=refunded,
    )


def gift_card_total(order: Mapping[str, Any]) -> int:
    return sum(card.captured for card in gift_cards(order))


def refund_total(refunds: Iterable[Mapping[str, Any]], currency: str, *, before: int | None = None) -> int:
    """Sum of the order's ``refunds[]`` entries (``total`` is negative), optionally only ids < ``before``."""
    return sum(minor(r.get("total"), currency) for r in refunds if before is None or int(r["id"]) < before)


def shipping_total(shipping_lines: Iterable[Mapping[str, Any]] | None, currency: str) -> int:
    """Shipping lines (of an order or a refund) with their tax, as positive minor units."""
    return sum(minor(s.get("total"), currency) + minor(s.get("total_tax"), currency) for s in shipping_lines or ())


def refunded_quantities(refunds: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Order line id → units already refunded, from full refund objects' ``_refunded_item_id``."""
    counts: dict[str, int] = {}
    for refund in refunds:
        for item in refund.get("line_items") or ():
            original = meta(item.get("meta_data")).get("_refunded_item_id")
            if original:
                counts[original] = counts.get(original, 0) + abs(int(item.get("quantity") or 0))
    return counts


@dataclass(frozen=True)
class ProductFacts:
    """What a product (or variation) says about refund policy: its kind, download limit, tags,
    and whether the merchant marked it final sale."""

    kind: ProductKind = ProductKind.PHYSICAL
    download_limit: int | None = None
    tags: tuple[str, ...] = ()
    final_sale: bool = False


def final_sale(product: Mapping[str, Any], parent: Mapping[str, Any] | None, meta_key: str | None) -> bool:
    """The product meta the merchant names for final sale (``yes``/``1``/``true``); a variation
    without its own value takes its parent's. Core WooCommerce has no such flag: no key, not final."""
    if not meta_key:
        return False
    value = meta_value(product.get("meta_data"), meta_key)
    if value in (None, "") and parent is not None:
        value = meta_value(parent.get("meta_data"), meta_key)
    return str(value or "").strip().lower() in TRUE_WORDS


def product_facts(
    product: Mapping[str, Any] | None, parent: Mapping[str, Any] | None = None, final_sale_meta: str | None = None
) -> ProductFacts:
    """Kind from ``type``/``virtual``/``downloadable``; a variation inherits type and tags from its parent."""
    if not product:
        return ProductFacts()
    types = {product.get("type"), (parent or {}).get("type")}
    tags = tuple(t.get("name", "") for t in (parent or product).get("tags") or ())
    limit = product.get("download_limit")
    download_limit = int(limit) if limit not in (None, "") and int(limit) > 0 else None
    if types & SUBSCRIPTION_TYPES:
        kind = ProductKind.SUBSCRIPTION
    elif types & GIFT_CARD_TYPES:
        kind = ProductKind.GIFT_CARD
    elif product.get("virtual") and product.get("downloadable"):
        kind = ProductKind.DIGITAL
    elif product.get("virtual"):
        kind = ProductKind.SERVICE
    else:
        kind = ProductKind.PHYSICAL
    return ProductFacts(
        kind=kind, download_limit=download_limit, tags=tags, final_sale=final_sale(product, parent, final_sale_meta)
    )


def product_key(item: Mapping[str, Any]) -> tuple[int, int]:
    return int(item.get("product_id") or 0), int(item.get("variation_id") or 0)


def digital_usage(
    facts: ProductFacts,
    downloads: Sequence[Mapping[str, Any]] | None,
    order_id: str,
    item: Mapping[str, Any],
    *,
    logged: int | None = None,
) -> DigitalUsage:
    """Usage from the download log's count (``logged``, ``connectors.woocommerce.downloads``) where
    the store reports it, else from ``GET /customers/{id}/downloads`` (one row per file still
    available, registered customers only).

    That list exposes ``downloads_remaining`` ("unlimited" or a number), not the count, so
    downloads = limit - remaining where both are known. Exhausted or expired files drop out of
    it, so a missing row is "unknown", never "unused"; an unlimited product is unknown too.
    """
    used: int | None = logged
    if used is None and facts.download_limit:
        ids = {str(i) for i in product_key(item) if i}
        rows = [d for d in downloads or () if str(d.get("order_id")) == order_id and str(d.get("product_id")) in ids]
        remaining = [int(r["downloads_remaining"]) for r in rows if str(r.get("downloads_remaining", "")).isdigit()]
        if remaining:
            used = max(facts.download_limit - min(remaining), 0)
    return DigitalUsage(
        downloads=used, download_limit=facts.download_limit, accessed=None if used is None else used > 0
    )


def order_line(
    item: Mapping[str, Any],
    quantity: int,
    currency: str,
    facts: ProductFacts,
    usage: DigitalUsage | None,
    line_id: str | None = None,
) -> Line:
    """A line item (of the order, or of a refund with ``line_id`` the order line it refunds),
    restricted to ``quantity`` units, unit price from its total, tax pro rata."""
    ordered = abs(int(item.get("quantity") or 0))
    total = minor(item.get("total"), currency)
    tax = minor(item.get("total_tax"), currency)
    return Line(
        line_id=line_id or str(item["id"]),
        sku=item.get("sku") or None,
        product_id=str(item.get("variation_id") or item.get("product_id") or "") or None,
        title=str(item.get("name") or ""),
        quantity=quantity,
        unit_price=per_unit(total, ordered),
        tax=per_unit(tax * quantity, ordered) if ordered else tax,
        kind=facts.kind,
        final_sale=facts.final_sale,
        tags=facts.tags,
        usage=usage,
    )


def refund_item_origin(item: Mapping[str, Any]) -> str:
    """The order line a refund line item refunds (``_refunded_item_id``), else its own id."""
    return meta(item.get("meta_data")).get("_refunded_item_id") or str(item["id"])


def refund_payload(
    *,
    amount: int,
    currency: str,
    reason: str,
    lines: Sequence[Line],
    shipping: int,
    order: Mapping[str, Any],
    meta_data: Mapping[str, str],
    api_refund: bool,
    restock: bool,
    line_amounts: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Body of ``POST /orders/{id}/refunds``; ``api_refund`` decides whether WooCommerce moves money.

    ``amount`` takes precedence over the line totals; lines carry the refunded quantities and
    their tax split over the order line's tax rates (``refund_tax[].id`` is the rate id). A line
    the policy gave back less for (``line_amounts``: a fee, a cap) carries what it gave back.
    """
    items = {str(i["id"]): i for i in order.get("line_items") or ()}
    body_lines = []
    for line in lines:
        goods, tax = line_refund(line, (line_amounts or {}).get(line.line_id))
        body_lines.append(_refund_line(items.get(line.line_id), line.line_id, line.quantity, goods, tax, currency))
    shipping_lines = order.get("shipping_lines") or []
    if shipping and shipping_lines:
        totals = [shipping_total([s], currency) for s in shipping_lines]
        for ship, part in zip(shipping_lines, allocate(shipping, totals), strict=True):
            if part:
                body_lines.append(_refund_line(ship, str(ship["id"]), 0, part, 0, currency))
    return {
        "amount": format_decimal(amount, currency),
        "reason": reason,
        "api_refund": api_refund,
        "api_restock": restock,
        "line_items": body_lines,
        "meta_data": [{"key": k, "value": v} for k, v in meta_data.items() if v],
    }


def line_refund(line: Line, decided: int | None) -> tuple[int, int]:
    """(goods, tax) going back for a line: in full, or ``decided`` minor units split in the
    line's own proportion of tax (the tax share rounded down)."""
    if decided is None or decided >= line.total or line.total <= 0:
        return line.unit_price * line.quantity, line.tax
    tax = line.tax * decided // line.total
    return decided - tax, tax


def _refund_line(
    item: Mapping[str, Any] | None, line_id: str, quantity: int, total: int, tax: int, currency: str
) -> dict[str, Any]:
    taxes = [t for t in (item or {}).get("taxes") or () if t.get("id") is not None]
    body: dict[str, Any] = {"id": int(line_id), "quantity": quantity, "refund_total": format_decimal(total, currency)}
    if taxes and tax:
        weights = [minor(t.get("total"), currency, exact=False) for t in taxes]
        body["refund_tax"] = [
            {"id": int(t["id"]), "refund_total": format_decimal(part, currency)}
            for t, part in zip(taxes, allocate(tax, weights), strict=True)
        ]
    return body


def hub_refund_meta(refund: Mapping[str, Any]) -> dict[str, str]:
    """The hub's own marks on a WooCommerce refund (empty for refunds made outside the hub)."""
    values = meta(refund.get("meta_data"))
    return {k: v for k, v in values.items() if k.startswith("_refund_hub_") and v}


def hub_reason(text: str, hub_refund_id: str) -> str:
    """A refund reason carrying the hub refund id (``[refund-hub:<id>]``) after ``text``."""
    mark = HUB_REASON_MARK.format(hub_refund_id)
    return text if mark in text else f"{text} {mark}".strip()


def hub_refund_id_of(refund: Mapping[str, Any]) -> str | None:
    """The hub refund id a WooCommerce refund carries: its ``_refund_hub_id`` meta, else the mark
    in its reason (a refund whose meta was never saved); None for refunds made outside the hub."""
    marked = hub_refund_meta(refund).get(HUB_ID_META)
    if marked:
        return marked
    found = _HUB_REASON.findall(str(refund.get("reason") or ""))
    return found[-1] if found else None
