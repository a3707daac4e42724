"""Money on the platform route, and what the hub writes back to Shopify.

``refund_on_platform``: ``refundCreate @idempotent(key:)`` with a REFUND transaction on the
payment's own transaction, so Shopify moves the money (a Return is refunded the same way:
``returnProcess`` takes no idempotency key, ``refundCreate`` must). ``record``: an order
metafield per hub refund, plus for gateway-routed refunds a ``refundCreate`` with no
transactions (a refund record whose total is zero: nothing moves). Both carry the hub refund id,
in the refund ``note`` as ``[refund-hub:<id>]``, so the ``refunds/create`` echo is recognised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.shopify import queries
from connectors.shopify.admin import GRAPHQL, HTTP, NOT_SENT, AdminClient, Reply
from connectors.shopify.config import AppSettings
from connectors.shopify.transformers import (
    GRAPHQL_ERROR_OUTCOMES,
    HTTP_OUTCOMES,
    PAYMENT_KINDS,
    SHOPIFY_PROCESSED,
    decline_input,
    gid,
    hub_refund_id_in,
    record_input,
    record_metafield,
    refund_input,
    refund_result,
)
from hub.contracts import (
    DecisionNotice,
    Execution,
    Outcome,
    RecordResult,
    RefundLookup,
    RefundResult,
    StoreContext,
    StoreDirectory,
    WriteBack,
)
from hub.errors import PlatformError, PlatformUnavailable

TRANSACTION_GID = "gid://shopify/OrderTransaction/"
DENIALS = ("deny", "denied", "decline")


def refund_on_platform(
    app: AppSettings, stores: StoreDirectory, store: StoreContext, execution: Execution
) -> RefundResult:
    if not execution.payment_reference.startswith(TRANSACTION_GID):
        return RefundResult(
            Outcome.FAILED,
            code="not_a_shopify_payment",
            message=f"{execution.payment_reference!r} is not a Shopify order transaction",
        )
    try:
        query = queries.refund_create(execution.idempotency_key)
        variables = {"input": refund_input(execution, notify=app.notify_customer)}
    except (ValueError, KeyError) as exc:
        return RefundResult(Outcome.FAILED, code="bad_request", message=str(exc))
    try:
        with AdminClient(app, stores, store) as client:
            reply = client.execute(query, variables)
    except PlatformError as exc:  # token trouble: refused before anything was sent
        return RefundResult(Outcome.UNAVAILABLE, code="token", message=str(exc))
    return mutation_result(reply, "refundCreate")


def mutation_result(reply: Reply, field: str) -> RefundResult:
    """Every way a refundCreate can end, as a RefundResult (never an exception)."""
    payload = (reply.data or {}).get(field) or {}
    refund = payload.get("refund")
    if refund:
        return refund_result(refund)
    if payload.get("userErrors"):
        messages = "; ".join(str(e.get("message")) for e in payload["userErrors"])
        return RefundResult(Outcome.FAILED, code="user_error", message=messages[:500])
    if reply.failure == GRAPHQL:
        codes = sorted(_codes(reply))
        outcomes = [GRAPHQL_ERROR_OUTCOMES.get(code, Outcome.UNKNOWN) for code in codes] or [Outcome.UNKNOWN]
        outcome = Outcome.UNKNOWN if Outcome.UNKNOWN in outcomes else outcomes[0]
        return RefundResult(outcome, code=",".join(codes), message=reply.describe())
    if reply.failure == NOT_SENT:
        return RefundResult(Outcome.UNAVAILABLE, code="not_sent", message=reply.describe())
    if reply.failure == HTTP:
        outcome = HTTP_OUTCOMES.get(reply.status, Outcome.UNKNOWN)
        return RefundResult(outcome, code=f"http_{reply.status}", message=reply.describe())
    return RefundResult(Outcome.UNKNOWN, code="no_answer", message=reply.describe())


def get_platform_refund(
    app: AppSettings, stores: StoreDirectory, store: StoreContext, lookup: RefundLookup
) -> RefundResult | None:
    """By the refund gid when the hub has it, else by the hub marker among the order's refunds."""
    try:
        with AdminClient(app, stores, store) as client:
            refund_id = lookup.gateway_refund_id
            if not refund_id:
                order_id = lookup.payment_extra.get("order_id")
                if not order_id:
                    return RefundResult(Outcome.UNKNOWN, code="no_order", message="payment extra names no order")
                order = client.read(queries.ORDER_QUERY, {"id": order_id}).get("order")
                refund_id = next(
                    (
                        r["id"]
                        for r in (order or {}).get("refunds") or ()
                        if hub_refund_id_in(r.get("note")) == lookup.hub_refund_id
                    ),
                    None,
                )
                if refund_id is None:
                    return None
            refund = client.read(queries.REFUND_QUERY, {"id": refund_id}).get("refund")
    except PlatformError as exc:
        return RefundResult(Outcome.UNKNOWN, code="platform_unavailable", message=str(exc))
    return refund_result(refund) if refund else None


def record(app: AppSettings, stores: StoreDirectory, store: StoreContext, writeback: WriteBack) -> RecordResult:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail: dict[str, Any] = {"money_moved_by_shopify": False}
    with AdminClient(app, stores, store) as client:
        data = client.read(queries.METAFIELDS_SET, {"metafields": [record_metafield(writeback, now)]})
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
            reply = client.execute(queries.refund_create(key), {"input": record_input(writeback)})
            payload = (reply.data or {}).get("refundCreate") or {}
            if payload.get("refund"):
                reference = detail["shopify_refund"] = payload["refund"]["id"]
            elif payload.get("userErrors") or _codes(reply) & {"IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"}:
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
        data = client.read(queries.RETURN_DECLINE, {"input": decline_input(notice.source_ref, notice.explanation)})
    payload = _payload(data, "returnDeclineRequest")
    returned = payload.get("return") or {}
    return RecordResult(reference=returned.get("id", notice.source_ref), detail={"status": returned.get("status")})


def _shopify_processed_payment(client: AdminClient, order_id: str) -> bool:
    """Whether any successful payment on the order went through a gateway Shopify pays out itself."""
    order = client.read(queries.ORDER_QUERY, {"id": gid("Order", order_id)}).get("order") or {}
    return any(
        t.get("kind") in PAYMENT_KINDS
        and t.get("status") == "SUCCESS"
        and str(t.get("gateway") or "").lower() in SHOPIFY_PROCESSED
        for t in order.get("transactions") or ()
    )


def _codes(reply: Reply) -> set[str]:
    return {str((e.get("extensions") or {}).get("code")) for e in reply.errors}


def _payload(data: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    payload = data.get(field) or {}
    if payload.get("userErrors"):
        raise PlatformError(f"{field}: {_messages(payload)}")
    return payload


def _messages(payload: Mapping[str, Any]) -> str:
    return "; ".join(str(e.get("message")) for e in payload.get("userErrors") or ())[:500]
