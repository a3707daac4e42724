"""Re-read a notice's Return or Refund through the Admin API with THAT store's token, and make it an event.

This is the trust step: the shop-domain header of a webhook is not signed, so a body replayed
under another installed shop's domain is looked up with that other shop's token, finds no such
return or refund (or one on a different order), and ends as ``Ignored`` with no money moved.
Everything normalized here is the Admin API answer, never the webhook body: that answer came
back with the token of the store the delivery was filed under, so it is that store's truth.

``confirm_gone`` is the same step for the notices that cannot be undone (disable the store on
app/uninstalled, erase it on shop/redact): Shopify is asked whether the app is still installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from connectors.shopify import bodies, facts
from connectors.shopify.auth import TokenRevoked
from connectors.shopify.client import AdminClient
from connectors.shopify.settings import AppSettings
from connectors.shopify.transformers import (
    PAYMENT_KINDS,
    gid_tail,
    hub_refund_id_in,
    line,
    minor,
    payments,
    reason_code,
    refund_result,
    refund_transactions,
    shop_money,
    suggested_lines,
    when,
    with_suggestion,
)
from hub.contracts import Notice, Outcome, StoreContext, StoreDirectory
from hub.errors import ParseError, PlatformUnavailable
from hub.models import (
    Customer,
    Event,
    Ignored,
    Line,
    OrderFacts,
    RefundRecorded,
    RefundRequest,
    RefundRequested,
)
from hub.models.money import CurrencyError, normalize_currency

OPEN_RETURN = ("REQUESTED", "OPEN")


def order_facts(order: Mapping[str, Any]) -> OrderFacts:
    paid = [
        t for t in order.get("transactions") or () if t.get("kind") in PAYMENT_KINDS and t.get("status") == "SUCCESS"
    ]
    paid_at = min((w for t in paid if (w := when(t.get("processedAt") or t.get("createdAt")))), default=None)
    fulfillments = [f for f in order.get("fulfillments") or () if f.get("status") in ("SUCCESS", None)]
    total = shop_money(order.get("totalPriceSet"))
    currency = normalize_currency(order.get("currencyCode") or (total[1] if total else "XXX"))
    presentment = order.get("presentmentCurrencyCode")
    created = when(order["createdAt"])
    if created is None:
        raise ValueError("order createdAt has no timezone")
    return OrderFacts(
        created_at=created,
        paid_at=paid_at or when(order.get("processedAt")),
        fulfilled_at=min((w for f in fulfillments if (w := when(f.get("createdAt")))), default=None),
        delivered_at=min((w for f in fulfillments if (w := when(f.get("deliveredAt")))), default=None),
        currency=currency,
        total=total[0] if total else 0,
        captured=sum(minor(t.get("amountSet")) for t in paid),
        refunded=minor(order.get("totalRefundedSet")),
        presentment_currency=presentment if presentment and presentment != currency else None,
    )


def _order_lines(order: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {node["id"]: node for node in (order.get("lineItems") or {}).get("nodes") or ()}


def _customer(order: Mapping[str, Any]) -> Customer:
    return Customer(id=gid_tail((order.get("customer") or {}).get("id")), email=order.get("email") or None)


def request_from_return(store_id: str, ret: Mapping[str, Any], delivery_id: str | None = None) -> Event:
    status = ret.get("status")
    if status not in OPEN_RETURN:
        return Ignored(reason=f"return is {status}", topic="returns/request")
    if (ret.get("refunds") or {}).get("nodes"):
        return Ignored(reason="the return already has a refund in Shopify", topic="returns/request")
    order = ret["order"]
    by_id = _order_lines(order)
    lines: list[Line] = []
    reasons: list[str | None] = []
    notes: list[str] = []
    for node in (ret.get("returnLineItems") or {}).get("nodes") or ():
        item = ((node.get("fulfillmentLineItem") or {}).get("lineItem") or {}).get("id")
        if item not in by_id:
            continue
        lines.append(line(by_id[item], int(node["quantity"]), taxes_included=bool(order.get("taxesIncluded"))))
        reasons.append(node.get("returnReason"))
        notes += [n for n in (node.get("returnReasonNote"), node.get("customerNote")) if n]
    found = payments(order)
    amount = sum(item.total for item in lines)
    if not lines or amount <= 0:
        return Ignored(reason="the return names no refundable order lines", topic="returns/request")
    if not found:
        return Ignored(reason="the order has no captured payment", topic="returns/request")
    return RefundRequested(
        request=_request(
            store_id,
            order,
            ret["id"],
            delivery_id,
            lines=tuple(lines),
            amount=amount,
            payments=tuple(found),
            requested_at=when(ret.get("createdAt")),
            reason=reason_code(reasons),
            reason_text="; ".join(notes)[:500],
        )
    )


def event_from_refund(store_id: str, refund: Mapping[str, Any], delivery_id: str | None = None) -> Event:
    """A refund that exists in Shopify. Shopify (or, for the hub's own write-back, the gateway)
    already moved its money: record only, never execute again."""
    order = refund["order"]
    by_id = _order_lines(order)
    lines = tuple(
        line(by_id[node["lineItem"]["id"]], int(node["quantity"]), taxes_included=bool(order.get("taxesIncluded")))
        for node in (refund.get("refundLineItems") or {}).get("nodes") or ()
        if (node.get("lineItem") or {}).get("id") in by_id
    )
    hub_id = hub_refund_id_in(refund.get("note"))
    result = refund_result(refund)
    amount = result.amount or 0
    if amount <= 0 and hub_id:  # the hub's own money-less write-back: its lines carry the value
        amount = sum(item.total for item in lines)
    if amount <= 0:
        return Ignored(reason="the refund moved no money", topic="refunds/create")
    if result.outcome is Outcome.FAILED:
        return Ignored(reason="every transaction of the refund failed", topic="refunds/create")
    found = payments(order)
    parents = {(t.get("parentTransaction") or {}).get("id") for t in refund_transactions(refund)}
    own = [p for p in found if p.extra.get("transaction_id") in parents] or found
    if not own:
        return Ignored(reason="the order has no captured payment", topic="refunds/create")
    note = (refund.get("note") or "").split("[refund-hub:", 1)[0].strip()
    return RefundRecorded(
        request=_request(
            store_id,
            order,
            refund["id"],
            delivery_id,
            lines=lines,
            amount=amount,
            payments=tuple(own),
            requested_at=when(refund.get("createdAt")),
            reason_text=note[:500],
            hub_refund_id=hub_id,
        ),
        money_moved=True,
        gateway_refund_id=refund["id"],
    )


def _request(
    store_id: str,
    order: Mapping[str, Any],
    source_ref: str,
    delivery_id: str | None,
    *,
    requested_at: datetime | None,
    **fields: Any,
) -> RefundRequest:
    """The parts every Shopify-made request shares: store, order facts, customer, shop currency."""
    facts = order_facts(order)
    return RefundRequest(
        connector="shopify",
        store_id=store_id,
        order_id=gid_tail(order["id"]) or "",
        source_ref=source_ref,
        delivery_id=delivery_id,
        customer=_customer(order),
        order=facts,
        currency=facts.currency,
        requested_at=requested_at or datetime.now(UTC),
        **fields,
    )


Normalizer = Callable[[str, Mapping[str, Any], "str | None"], Event]
WHAT: dict[str, tuple[str, str, Normalizer]] = {
    "requested": (bodies.RETURN_QUERY, "return", request_from_return),
    "recorded": (bodies.REFUND_QUERY, "refund", event_from_refund),
}


def fetch(app: AppSettings, stores: StoreDirectory, store: StoreContext, notice: Notice) -> Event:
    if notice.kind not in WHAT or not notice.source_ref:
        return Ignored(reason=str(notice.hints.get("reason") or f"{notice.kind} needs no fetch"), topic=notice.topic)
    query, field, normalize = WHAT[notice.kind]
    with AdminClient(app, stores, store) as client:
        node = client.read(query, {"id": notice.source_ref}).get(field)
        if node is None:
            return Ignored(reason=f"no {field} {notice.source_ref} in {store.id}", topic=notice.topic)
        order_id = gid_tail((node.get("order") or {}).get("id"))
        if notice.order_id and order_id != notice.order_id:
            reason = f"{field} {notice.source_ref} belongs to order {order_id}, not {notice.order_id}"
            return Ignored(reason=reason, topic=notice.topic)
        try:
            event = normalize(store.id, node, notice.hints.get("delivery_id"))
            if isinstance(event, RefundRequested) and len(event.request.payments) > 1:
                event = _suggested(client, node["order"]["id"], event)
            if isinstance(event, RefundRequested):  # what the policy decides on: history, tags, final sale
                extras = facts.read_extras(client, node["order"]["id"], facts.final_sale_key(store))
                event = event.model_copy(update={"request": facts.with_extras(event.request, extras)})
        except (KeyError, TypeError, ValueError, ValidationError, CurrencyError) as exc:
            raise ParseError(f"Shopify {field} {notice.source_ref} could not be normalized: {exc}") from exc
    if isinstance(event, Ignored):
        return event.model_copy(update={"topic": notice.topic})
    return event


def _suggested(client: AdminClient, order_gid: str, event: RefundRequested) -> RefundRequested:
    """An order paid more than one way: Shopify's own split of the returned lines across its
    payments (``Order.suggestedRefund``), so the hub allocates as Shopify would."""
    request = event.request
    variables = {"id": order_gid, "lines": suggested_lines(request.lines)}
    order = client.read(bodies.SUGGESTED_REFUND_QUERY, variables).get("order") or {}
    found = with_suggestion(request.payments, order.get("suggestedRefund"))
    return event.model_copy(update={"request": request.model_copy(update={"payments": tuple(found)})})


def confirm_gone(app: AppSettings, stores: StoreDirectory, notice: Notice) -> Notice:
    """An uninstall or a whole-store redaction, kept only when Shopify says the app is gone.

    The body is signed but its headers are not, and an old uninstall body can be replayed after a
    re-install: so the store's own token asks ``shop { id }``. An uninstall revokes every token at
    once, so 401 (or a refresh token Shopify refuses) confirms it; an answer means the app is still
    installed and the notice is ignored. No answer raises ``PlatformUnavailable`` (the delivery is
    tried again). A store the hub does not hold enabled (or without a token) has nothing to keep.
    """
    if notice.kind != "uninstalled" and not (notice.kind == "redact" and notice.hints.get("whole_store")):
        return notice
    store = stores.get(notice.store_id)
    if store is None or not store.credentials.get("access_token"):
        return notice
    try:
        with AdminClient(app, stores, store) as client:
            reply = client.execute(bodies.SHOP_QUERY)
    except TokenRevoked:
        return notice
    if reply.status == 401:
        return notice
    if reply.transient:
        raise PlatformUnavailable(f"Shopify {store.id}: could not confirm {notice.topic}: {reply.describe()}")
    answered = gid_tail(((reply.data or {}).get("shop") or {}).get("id"))
    reason = (
        f"{notice.topic} not confirmed: Shopify still answers the store's token (HTTP {reply.status}, "
        f"shop {answered}), so the app is still installed on {store.id}"
    )
    return Notice(
        kind="ignored",
        store_id=notice.store_id,
        topic=notice.topic,
        hints={**notice.hints, "reason": reason, "api_shop_id": answered},
    )
