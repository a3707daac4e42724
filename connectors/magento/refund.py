"""Money on the platform route: an online credit memo, so Magento refunds through its payment module.

Magento has no idempotency key, so every credit memo the hub creates carries ``refund-hub:<id>``
in its comment and is looked for before one is created (``find_creditmemo``, shared with
``record``). A write whose answer was lost is ``unknown`` for the money route.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.magento import bodies
from connectors.magento import transformers as tf
from connectors.magento.client import MagentoClient, MaybeApplied, segment
from connectors.magento.fetch import comments_of
from hub.contracts import Execution, Outcome, RefundLookup, RefundResult, StoreContext
from hub.errors import PlatformError, PlatformUnavailable

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
