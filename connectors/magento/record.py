"""What the hub writes back to Magento: offline credit memos for refunds it executed, and customer notes.

A write-back credit memo is never ``isOnline`` (the money already moved). Like the platform route
(``refund``), it is idempotent per hub refund id: it carries ``refund-hub:<id>`` in its comment,
every credit memo of the order is read for it before one is created, and while a write may be in
flight it is marked in the store's state, so an overlapping call waits (``PlatformUnavailable``,
retried) instead of creating a second memo, and a retry after a lost answer finds the first one.

An offline memo moves no money, so its mark lasts only as long as a lost write can still land and
show up in the order's credit memos — the client's read timeout plus ``LISTING_GRACE`` — not the
platform route's quarter of an hour: a write-back killed mid-call is written once a few minutes
later (the fault drill's kill -9 case).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connectors.magento import bodies
from connectors.magento.client import MagentoClient, MagentoError, MaybeApplied, segment
from connectors.magento.refund import (
    InFlight,
    claim_write,
    find_creditmemo,
    release_write,
    surely_not_written,
    tagged_comment,
)
from hub.contracts import DecisionNotice, Outcome, RecordResult, StoreContext, StoreDirectory, WriteBack
from hub.errors import PlatformError, PlatformUnavailable
from hub.models.money import format_decimal

DECLINES = {"deny", "denied", "decline", "declined", "reject", "rejected"}
LISTING_GRACE = 120.0  # seconds after the client gave up within which a lost memo is listed


def record(client: MagentoClient, stores: StoreDirectory, store: StoreContext, writeback: WriteBack) -> RecordResult:
    """The executed refund as an offline credit memo (never ``isOnline``), or a note if it did not succeed."""
    try:
        return _record(client, stores, store, writeback)
    except (MaybeApplied, InFlight) as exc:  # safe to repeat: the retry finds the first attempt by its comment
        raise PlatformUnavailable(str(exc)) from None


def _record(client: MagentoClient, stores: StoreDirectory, store: StoreContext, writeback: WriteBack) -> RecordResult:
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
    claim_write(stores, store.id, writeback.hub_refund_id, ttl=client.timeout[1] + LISTING_GRACE)
    try:
        memo_id = client.post(f"order/{segment(writeback.order_id)}/refund", body)
    except PlatformError as exc:
        if surely_not_written(exc):
            release_write(stores, store.id, writeback.hub_refund_id)
        raise
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
