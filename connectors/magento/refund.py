"""Writes to Magento: online credit memos (the platform route), offline ones (write-back), customer notes.

Magento has no idempotency key, so every credit memo the hub creates carries ``refund-hub:<id>``
in its comment and is looked for before one is created. A write whose answer was lost is
``unknown`` for the money route, and is simply retried for a write-back, because the retry
finds the first attempt by that comment instead of writing twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connectors.magento import bodies
from connectors.magento import transformers as tf
from connectors.magento.client import MagentoClient, MagentoError, MaybeApplied, segment
from connectors.magento.fetching import comments_of
from hub.contracts import (
    DecisionNotice,
    Execution,
    Outcome,
    RecordResult,
    RefundLookup,
    RefundResult,
    StoreContext,
    WriteBack,
)
from hub.errors import PlatformError, PlatformUnavailable
from hub.models.money import format_decimal

DECLINES = {"deny", "denied", "decline", "declined", "reject", "rejected"}
# Magento refuses before doing anything on these statuses; the call can be repeated later.
NOT_APPLIED = {401, 403, 429}


def find_creditmemo(client: MagentoClient, order_id: str, hub_refund_id: str) -> dict[str, Any] | None:
    """The order's credit memo whose comment carries this hub refund id."""
    for memo in client.search("creditmemos", [[("order_id", str(order_id), "eq")]]):
        if tf.hub_refund_id(comments_of(client, memo)) == hub_refund_id:
            return memo
    return None


def _result(memo: Mapping[str, Any], currency: str) -> RefundResult:
    online = bool(memo.get("transaction_id"))
    return RefundResult(
        outcome=Outcome.SUCCEEDED,
        gateway_refund_id=str(memo["entity_id"]),
        amount=tf.minor(memo.get("grand_total"), currency),
        currency=currency,
        raw_status="online_creditmemo" if online else "offline_creditmemo",
    )


def _failure(exc: PlatformError) -> RefundResult:
    if isinstance(exc, MaybeApplied):
        return RefundResult(outcome=Outcome.UNKNOWN, code="maybe_applied", message=str(exc))
    if isinstance(exc, PlatformUnavailable) or getattr(exc, "status", None) in NOT_APPLIED:
        return RefundResult(outcome=Outcome.UNAVAILABLE, code="unavailable", message=str(exc))
    status = getattr(exc, "status", None)
    return RefundResult(outcome=Outcome.FAILED, code=str(status or "error"), message=getattr(exc, "message", str(exc)))


def tagged_comment(hub_refund_id: str, headline: str, note: str = "") -> str:
    return bodies.hub_comment(hub_refund_id, f"{headline}. {note}".strip() if note else headline)


def refund_on_platform(client: MagentoClient, store: StoreContext, execution: Execution) -> RefundResult:
    """An online credit memo on the order's paid invoice: Magento refunds through its payment module."""
    order_id = execution.order_id or execution.payment_extra.get("order_id", "")
    if not order_id:
        return RefundResult(outcome=Outcome.FAILED, code="no_order", message="execution names no Magento order")
    try:
        existing = find_creditmemo(client, order_id, execution.hub_refund_id)
        if existing is not None:
            return _result(existing, execution.currency)
        order = client.get(f"orders/{segment(order_id)}")
        invoices = client.search("invoices", [[("order_id", str(order_id), "eq")]])
        invoice = next((i for i in invoices if int(i.get("state") or 0) == 2), None)  # 2 = paid
    except PlatformError as exc:  # nothing was sent yet
        return _failure(PlatformUnavailable(str(exc)) if isinstance(exc, MaybeApplied) else exc)
    if invoice is None:
        return RefundResult(outcome=Outcome.FAILED, code="no_invoice", message="the order has no paid invoice")
    text = tagged_comment(execution.hub_refund_id, "Refund through Magento", execution.note)
    body = bodies.creditmemo(
        order,
        lines=execution.lines,
        shipping=execution.shipping,
        total=execution.amount,
        comment=text,
        notify=bool(store.settings.get("notify_customer", True)),
        online=True,
    )
    try:
        memo_id = client.post(f"invoice/{segment(invoice['entity_id'])}/refund", body)
    except PlatformError as exc:
        return _failure(exc)
    try:
        return _result(client.get(f"creditmemo/{segment(memo_id)}"), execution.currency)
    except PlatformError:
        return RefundResult(
            outcome=Outcome.SUCCEEDED,
            gateway_refund_id=str(memo_id),
            amount=execution.amount,
            currency=execution.currency,
            raw_status="online_creditmemo",
        )


def get_platform_refund(client: MagentoClient, lookup: RefundLookup) -> RefundResult | None:
    """How a platform-routed refund ended: its credit memo by id, else by the hub id in a comment."""
    order_id = lookup.payment_extra.get("order_id")
    try:
        if lookup.gateway_refund_id:
            return _result(client.get(f"creditmemo/{segment(lookup.gateway_refund_id)}"), lookup.currency)
        if not order_id:
            return RefundResult(outcome=Outcome.UNKNOWN, code="no_order", message="lookup names no Magento order")
        memo = find_creditmemo(client, order_id, lookup.hub_refund_id)
    except PlatformError as exc:
        return RefundResult(outcome=Outcome.UNKNOWN, code="lookup_failed", message=str(exc))
    return None if memo is None else _result(memo, lookup.currency)


def record(client: MagentoClient, store: StoreContext, writeback: WriteBack) -> RecordResult:
    """The executed refund as an offline credit memo (never ``isOnline``), or a note if it did not succeed."""
    try:
        return _record(client, store, writeback)
    except MaybeApplied as exc:  # safe to repeat: the retry finds the first attempt by its comment
        raise PlatformUnavailable(str(exc)) from None


def _record(client: MagentoClient, store: StoreContext, writeback: WriteBack) -> RecordResult:
    existing = find_creditmemo(client, writeback.order_id, writeback.hub_refund_id)
    if existing is not None:
        online = bool(existing.get("transaction_id"))
        return RecordResult(
            reference=str(existing["entity_id"]),
            detail={"creditmemo_id": str(existing["entity_id"]), "created": False, "online": online},
        )
    order = client.get(f"orders/{segment(writeback.order_id)}")
    via = writeback.gateway or writeback.route
    headline = f"Refunded {format_decimal(writeback.amount, writeback.currency)} {writeback.currency} via {via}"
    if writeback.gateway_refund_id:
        headline += f", refund {writeback.gateway_refund_id}"
    if writeback.outcome is not Outcome.SUCCEEDED:
        text = tagged_comment(writeback.hub_refund_id, f"{headline}: {writeback.outcome.value}", writeback.note)
        if not _has_comment(order, text):
            client.post(
                f"orders/{segment(writeback.order_id)}/comments", bodies.order_comment(order, text, visible=False)
            )
        return RecordResult(reference=None, detail={"order_comment": True, "outcome": writeback.outcome.value})
    body = bodies.creditmemo(
        order,
        lines=writeback.lines,
        shipping=writeback.shipping,
        total=writeback.amount,
        comment=tagged_comment(writeback.hub_refund_id, headline, writeback.note),
        notify=bool(store.settings.get("notify_customer", True)),
    )
    memo_id = client.post(f"order/{segment(writeback.order_id)}/refund", body)
    return RecordResult(
        reference=str(memo_id), detail={"creditmemo_id": str(memo_id), "created": True, "online": False}
    )


def _has_comment(order: Mapping[str, Any], text: str) -> bool:
    return any(str(h.get("comment") or "") == text for h in order.get("status_histories") or [])


def notify_decision(client: MagentoClient, store: StoreContext, notice: DecisionNotice) -> RecordResult:
    """A customer-visible order comment; for a declined RMA also the RMA's status, where the API allows."""
    try:
        return _notify(client, store, notice)
    except MaybeApplied as exc:  # safe to repeat: the comment is looked for first
        raise PlatformUnavailable(str(exc)) from None


def _notify(client: MagentoClient, store: StoreContext, notice: DecisionNotice) -> RecordResult:
    order = client.get(f"orders/{segment(notice.order_id)}")
    explanation = notice.explanation
    marker = store.settings.get("refund_request_comment_marker")
    if marker:  # the hub's own comment must never read as a new request
        explanation = re.sub(re.escape(str(marker)), "", explanation, flags=re.IGNORECASE)
    text = bodies.hub_comment(notice.hub_refund_id, explanation)
    if not _has_comment(order, text):
        client.post(f"orders/{segment(notice.order_id)}/comments", bodies.order_comment(order, text, visible=True))
    detail: dict[str, Any] = {"order_comment": True}
    if notice.source_ref.startswith("rma:") and notice.decision.lower() in DECLINES:
        rma_id = segment(notice.source_ref.removeprefix("rma:"))
        try:
            rma = client.get(f"returns/{rma_id}")
            updated = client.put(f"returns/{rma_id}", bodies.rma_declined(rma)) or {}
            detail["rma_status"] = updated.get("status")
        except MagentoError as exc:  # RMA module absent or the status change refused: the comment stands
            detail["rma_error"] = exc.message
    return RecordResult(reference=f"order:{notice.order_id}", detail=detail)
