"""What the hub writes back to Shopify: a record of each refund, and the decision on a return.

``record``: an order metafield per hub refund, plus for gateway-routed refunds a ``refundCreate``
with no transactions (a refund record whose total is zero: nothing moves). It carries the hub
refund id in the refund ``note`` as ``[refund-hub:<id>]``, so the ``refunds/create`` echo is
recognised. ``notify_decision``: a denied return request becomes Shopify's own decline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.shopify import bodies
from connectors.shopify.client import AdminClient
from connectors.shopify.settings import AppSettings
from connectors.shopify.transformers import (
    PAYMENT_KINDS,
    SHOPIFY_PROCESSED,
    decline_input,
    gid,
    record_input,
    record_metafield,
)
from hub.contracts import DecisionNotice, Outcome, RecordResult, StoreContext, StoreDirectory, WriteBack
from hub.errors import PlatformError, PlatformUnavailable

DENIALS = ("deny", "denied", "decline")


def record(app: AppSettings, stores: StoreDirectory, store: StoreContext, writeback: WriteBack) -> RecordResult:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail: dict[str, Any] = {"money_moved_by_shopify": False}
    with AdminClient(app, stores, store) as client:
        data = client.read(bodies.METAFIELDS_SET, {"metafields": [record_metafield(writeback, now)]})
        saved = _payload(data, "metafieldsSet")
        detail["metafield"] = ((saved.get("metafields") or [{}])[0]).get("id")
        reference = writeback.gateway_refund_id
        lines_to_mark = app.record_refunds and writeback.lines and writeback.outcome is Outcome.SUCCEEDED
        if lines_to_mark and writeback.route != "platform" and _shopify_processed_payment(client, writeback.order_id):
            # Shopify documents that a refund without transactions lets "the system determine how to
            # apply the refund": on an order Shopify can pay out, that could move money a second time
            detail["refund_record_skipped"] = "the order has a payment Shopify processes; metafield only"
        elif lines_to_mark and writeback.route != "platform":
            key = "hub-record-" + re.sub(r"[^A-Za-z0-9_.:\-]", "-", writeback.hub_refund_id)
            reply = client.execute(bodies.refund_create(key), {"input": record_input(writeback)})
            payload = (reply.data or {}).get("refundCreate") or {}
            if payload.get("refund"):
                reference = detail["shopify_refund"] = payload["refund"]["id"]
            elif payload.get("userErrors") or reply.codes() & {"IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"}:
                # the metafield already holds the record: a refused line record is not fatal
                detail["refund_record_error"] = _messages(payload) or reply.describe()
            elif reply.transient:
                raise PlatformUnavailable(f"Shopify {store.id}: recording refund failed: {reply.describe()}")
            else:
                raise PlatformError(f"Shopify {store.id}: recording refund failed: {reply.describe()}")
    return RecordResult(reference=reference or detail.get("metafield"), detail=detail)


def notify_decision(
    app: AppSettings, stores: StoreDirectory, store: StoreContext, notice: DecisionNotice
) -> RecordResult | None:
    """A denied return request becomes Shopify's own decline, whose note the customer reads."""
    if notice.decision.lower() not in DENIALS or not notice.source_ref.startswith("gid://shopify/Return/"):
        return None
    with AdminClient(app, stores, store) as client:
        data = client.read(bodies.RETURN_DECLINE, {"input": decline_input(notice.source_ref, notice.explanation)})
    payload = _payload(data, "returnDeclineRequest")
    returned = payload.get("return") or {}
    return RecordResult(reference=returned.get("id", notice.source_ref), detail={"status": returned.get("status")})


def _shopify_processed_payment(client: AdminClient, order_id: str) -> bool:
    """Whether any successful payment on the order went through a gateway Shopify pays out itself."""
    order = client.read(bodies.ORDER_QUERY, {"id": gid("Order", order_id)}).get("order") or {}
    return any(
        t.get("kind") in PAYMENT_KINDS
        and t.get("status") == "SUCCESS"
        and str(t.get("gateway") or "").lower() in SHOPIFY_PROCESSED
        for t in order.get("transactions") or ()
    )


def _payload(data: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    payload = data.get(field) or {}
    if payload.get("userErrors"):
        raise PlatformError(f"{field}: {_messages(payload)}")
    return payload


def _messages(payload: Mapping[str, Any]) -> str:
    return "; ".join(str(e.get("message")) for e in payload.get("userErrors") or ())[:500]
