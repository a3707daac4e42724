"""What the hub writes back to Shopify: a record of each refund, and the decision on a return.

``record``: an order metafield per hub refund, plus for gateway-routed refunds a ``refundCreate``
with no transactions (a refund record whose total is zero: nothing moves). It carries the hub
refund id in the refund ``note`` as ``[refund-hub:<id>]``, so the ``refunds/create`` echo is
recognised. ``notify_decision``: a denied return request becomes Shopify's own decline.

Once per hub refund: the metafield is keyed by the hub refund id (a second write overwrites it),
and before a refund record is created the order's refunds (``Order.refunds``, read untruncated)
are searched for the hub marker, so a second ``record`` finds the first record even after
Shopify forgot the ``@idempotent`` key (kept for a limited time only). The key still covers two
calls at once: the second gets ``IDEMPOTENCY_CONCURRENT_REQUEST`` and, unless the record is there
by then, raises ``PlatformUnavailable`` (the write-back is retried and finds it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.shopify import bodies
from connectors.shopify.client import AdminClient
from connectors.shopify.refund import returned
from connectors.shopify.settings import AppSettings
from connectors.shopify.transformers import (
    PAYMENT_KINDS,
    SHOPIFY_PROCESSED,
    decline_input,
    gid,
    hub_refund_id_in,
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
        if lines_to_mark and writeback.route != "platform":
            order = _order(client, writeback.order_id)
            found = _recorded(order, writeback.hub_refund_id)
            if found:  # recorded before (a retry, a second write-back): never a second refund
                reference = detail["shopify_refund"] = found
            elif _shopify_processed_payment(order):
                # Shopify documents that a refund without transactions lets "the system determine how
                # to apply the refund": on an order Shopify can pay out, that could move money again
                detail["refund_record_skipped"] = "the order has a payment Shopify processes; metafield only"
            else:
                made, refused = _create_record(client, store, writeback)
                if made:
                    reference = detail["shopify_refund"] = made
                else:  # the metafield already holds the record: a refused line record is not fatal
                    detail["refund_record_error"] = refused
        if writeback.outcome is Outcome.SUCCEEDED:  # the Return it paid for is processed, once
            detail.update(returned(client, writeback.source_ref, writeback.lines))
    return RecordResult(reference=reference or detail.get("metafield"), detail=detail)


def _create_record(client: AdminClient, store: StoreContext, writeback: WriteBack) -> tuple[str | None, str]:
    """``refundCreate`` of the money-less record under the key of this hub refund: its gid, or
    None and why Shopify refused it."""
    key = "hub-record-" + re.sub(r"[^A-Za-z0-9_.:\-]", "-", writeback.hub_refund_id)
    reply = client.execute(bodies.refund_create(key), {"input": record_input(writeback)})
    payload = (reply.data or {}).get("refundCreate") or {}
    if payload.get("refund"):
        return str(payload["refund"]["id"]), ""
    if payload.get("userErrors") or reply.codes() & {"IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"}:
        return None, _messages(payload) or reply.describe()
    if reply.codes() & {"IDEMPOTENCY_CONCURRENT_REQUEST"}:
        # the same record is being made by another call right now: it may be done already
        found = _recorded(_order(client, writeback.order_id), writeback.hub_refund_id)
        if found:
            return found, ""
        raise PlatformUnavailable(f"Shopify {store.id}: the record of {writeback.hub_refund_id} is in progress")
    if reply.transient:
        raise PlatformUnavailable(f"Shopify {store.id}: recording refund failed: {reply.describe()}")
    raise PlatformError(f"Shopify {store.id}: recording refund failed: {reply.describe()}")


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


def _order(client: AdminClient, order_id: str) -> Mapping[str, Any]:
    return client.read(bodies.ORDER_QUERY, {"id": gid("Order", order_id)}).get("order") or {}


def _recorded(order: Mapping[str, Any], hub_refund_id: str) -> str | None:
    """The order's refund that carries this hub refund's marker (every refund is read)."""
    found = (r.get("id") for r in order.get("refunds") or () if hub_refund_id_in(r.get("note")) == hub_refund_id)
    return next((str(i) for i in found if i), None)


def _shopify_processed_payment(order: Mapping[str, Any]) -> bool:
    """Whether any successful payment on the order went through a gateway Shopify pays out itself."""
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
