"""Writing to WooCommerce: refund records that never move money twice, platform refunds, notes.

``POST /orders/{id}/refunds`` moves money through the order's payment plugin unless
``api_refund`` is false (its default is true). The hub records its own refunds with
``api_refund: false``; only the ``platform`` route sends ``true``. WooCommerce has no
idempotency key, so both look for a refund already carrying the hub id in ``meta_data`` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from connectors.woocommerce import transformers as tx
from connectors.woocommerce.client import WooClient, WooError
from connectors.woocommerce.notices import refund_of
from hub.contracts import DecisionNotice, Execution, Outcome, RecordResult, RefundLookup, RefundResult, WriteBack
from hub.models.money import format_decimal

RECORDED_OUTCOMES = (Outcome.SUCCEEDED, Outcome.PENDING)
PLUGIN_FAILED = "woocommerce_rest_cannot_create_order_refund"  # wc_create_refund() returned a WP_Error


def find_hub_refund(client: WooClient, order_id: str, hub_refund_id: str) -> dict[str, Any] | None:
    """The order's refund whose ``_refund_hub_id`` meta is ``hub_refund_id``, if any."""
    for refund in client.every(f"orders/{int(order_id)}/refunds"):
        if tx.hub_refund_meta(refund).get(tx.HUB_ID_META) == hub_refund_id:
            return dict(refund)
    return None


def record(client: WooClient, writeback: WriteBack, *, restock: bool) -> RecordResult:
    """A refund record for money the hub moved (``api_refund: false``); a private note otherwise.

    A manual WooCommerce refund the hub paid out already is the refund record (the REST API
    cannot update a refund), so it gets a note. Safe to repeat: a record already carrying the
    hub id, or the same note, is returned instead of a second one.
    """
    manual = refund_of(writeback.source_ref)
    if writeback.outcome not in RECORDED_OUTCOMES or manual is not None:
        note = _note_once(client, writeback.order_id, _outcome_note(writeback, manual), customer_note=False)
        return RecordResult(
            reference=f"note:{note['id']}",
            detail={"kind": "note", "outcome": writeback.outcome.value, "refund_id": manual},
        )
    existing = find_hub_refund(client, writeback.order_id, writeback.hub_refund_id)
    if existing is not None:
        return RecordResult(
            reference=str(existing["id"]), detail={"kind": "refund", "created": False, "api_refund": False}
        )
    order = client.get(f"orders/{int(writeback.order_id)}")
    body = _refund_body(
        order,
        writeback,
        api_refund=False,
        restock=restock,
        meta_data={
            tx.HUB_ID_META: writeback.hub_refund_id,
            tx.HUB_GATEWAY_META: writeback.gateway or writeback.route,
            tx.HUB_GATEWAY_REFUND_META: writeback.gateway_refund_id or "",
        },
    )
    created = client.post(f"orders/{int(writeback.order_id)}/refunds", body)
    return RecordResult(reference=str(created["id"]), detail={"kind": "refund", "created": True, "api_refund": False})


def refund_on_platform(client: WooClient, execution: Execution, *, restock: bool) -> RefundResult:
    """WooCommerce asks the order's payment plugin to refund (``api_refund: true``), once."""
    order_id = execution.order_id or execution.payment_extra.get("order_id", "")
    if not order_id:
        return RefundResult(outcome=Outcome.FAILED, code="no_order", message="a platform refund needs the order id")
    try:
        existing = find_hub_refund(client, order_id, execution.hub_refund_id)
        order = None if existing else client.get(f"orders/{int(order_id)}")
    except WooError as exc:  # only reads so far: nothing that moves money was sent
        return _failure(exc, Outcome.UNAVAILABLE if exc.transient else Outcome.FAILED)
    if existing is not None:
        return result_of(existing, execution.currency)
    assert order is not None
    body = _refund_body(
        order,
        execution,
        api_refund=True,
        restock=restock,
        meta_data={tx.HUB_ID_META: execution.hub_refund_id, tx.HUB_KEY_META: execution.idempotency_key},
    )
    try:
        created = client.post(f"orders/{int(order_id)}/refunds", body)
    except WooError as exc:
        if not exc.sent:
            return _failure(exc, Outcome.UNAVAILABLE)
        if exc.status is not None and 400 <= exc.status < 500 and exc.status not in (408, 409, 429):
            return _failure(exc, Outcome.FAILED)  # refused before WooCommerce created anything
        # a 5xx (including WooCommerce's own "cannot create order refund" after the payment
        # plugin failed), a timeout or a reset: the plugin may have moved the money
        return _failure(exc, Outcome.UNKNOWN)
    return result_of(created, execution.currency)


def get_platform_refund(client: WooClient, lookup: RefundLookup) -> RefundResult | None:
    """Find an earlier platform refund by its ``_refund_hub_id`` meta: on the order when the
    payment's ``extra`` names it, else by WooCommerce refund id (``GET /refunds``, 9.0+)."""
    order_id = lookup.payment_extra.get("order_id")
    try:
        if order_id:
            refund = find_hub_refund(client, order_id, lookup.hub_refund_id)
        elif lookup.gateway_refund_id:
            listed = client.get("refunds", {"include": int(lookup.gateway_refund_id)})
            refund = next(
                (r for r in listed if tx.hub_refund_meta(r).get(tx.HUB_ID_META) == lookup.hub_refund_id), None
            )
        else:
            return None
    except WooError as exc:
        return _failure(exc, Outcome.UNKNOWN)
    return None if refund is None else result_of(refund, lookup.currency)


def notify_decision(client: WooClient, notice: DecisionNotice) -> RecordResult:
    """A customer-visible order note (WooCommerce e-mails it); an identical note is not repeated."""
    note = _note_once(client, notice.order_id, notice.explanation, customer_note=True)
    return RecordResult(reference=f"note:{note['id']}", detail={"decision": notice.decision})


def result_of(refund: Mapping[str, Any], currency: str) -> RefundResult:
    found = RefundResult(
        outcome=Outcome.SUCCEEDED,
        gateway_refund_id=str(refund["id"]),
        currency=currency,
        amount=tx.minor(refund.get("amount"), currency),
        raw_status="refunded_payment",
    )
    if refund.get("refunded_payment"):
        return found
    return replace(
        found,
        outcome=Outcome.UNKNOWN,
        code="not_refunded_payment",
        raw_status="recorded",
        message="a WooCommerce refund carries this hub id but its payment plugin moved no money",
    )


def _refund_body(
    order: Mapping[str, Any],
    refund: WriteBack | Execution,
    *,
    api_refund: bool,
    restock: bool,
    meta_data: Mapping[str, str],
) -> dict[str, Any]:
    return tx.refund_payload(
        amount=refund.amount,
        currency=refund.currency,
        reason=refund.note or f"Refund Hub {refund.hub_refund_id}",
        lines=refund.lines,
        shipping=refund.shipping,
        order=order,
        meta_data=meta_data,
        api_refund=api_refund,
        restock=restock,
    )


def _failure(exc: WooError, outcome: Outcome) -> RefundResult:
    return RefundResult(
        outcome=outcome,
        code=exc.code or ("http_" + str(exc.status) if exc.status else "transport"),
        message=exc.message,
        raw_status=str(exc.status) if exc.status else None,
    )


def _note_once(client: WooClient, order_id: str, text: str, *, customer_note: bool) -> Any:
    """The order note with this text, added unless an earlier attempt already did (notes have no key)."""
    path = f"orders/{int(order_id)}/notes"
    kind = "customer" if customer_note else "internal"
    for note in client.every(path, {"type": kind}, max_pages=5):
        if note.get("note") == text:
            return note
    return client.post(path, {"note": text, "customer_note": customer_note})


def _outcome_note(writeback: WriteBack, manual_refund: str | None) -> str:
    via = writeback.gateway or writeback.route
    money = f"{format_decimal(writeback.amount, writeback.currency)} {writeback.currency}"
    if manual_refund is not None and writeback.outcome in RECORDED_OUTCOMES:
        text = f"Refund Hub paid out manual refund #{manual_refund} ({money}) via {via}"
        text += f" ({writeback.gateway_refund_id})." if writeback.gateway_refund_id else "."
    else:
        text = f"Refund Hub: refund {writeback.hub_refund_id} of {money} via {via} is {writeback.outcome.value}."
    return f"{text} {writeback.note}".strip()
