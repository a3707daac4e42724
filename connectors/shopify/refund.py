"""Money on the platform route: Shopify refunds the payment itself, and how an earlier attempt ended.

``refund_on_platform``: ``refundCreate @idempotent(key:)`` with a REFUND transaction on the
payment's own transaction, so Shopify moves the money (a Return is refunded the same way:
``returnProcess`` takes no idempotency key, ``refundCreate`` must). The refund carries the hub
refund id in its ``note`` as ``[refund-hub:<id>]``, so the ``refunds/create`` echo is recognised
and ``get_platform_refund`` can find it among the order's refunds.
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.shopify import bodies
from connectors.shopify.client import GRAPHQL, HTTP, NOT_SENT, AdminClient, Reply
from connectors.shopify.returns import RETURN_GID, process_return
from connectors.shopify.settings import AppSettings
from connectors.shopify.transformers import (
    GRAPHQL_ERROR_OUTCOMES,
    HTTP_OUTCOMES,
    hub_refund_id_in,
    refund_input,
    refund_result,
)
from hub.contracts import Execution, Outcome, RefundLookup, RefundResult, StoreContext, StoreDirectory
from hub.errors import PlatformError
from hub.models import Line

log = logging.getLogger(__name__)

TRANSACTION_GID = "gid://shopify/OrderTransaction/"


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
        query = bodies.refund_create(execution.idempotency_key)
        variables = {"input": refund_input(execution, notify=app.notify_customer)}
    except (ValueError, KeyError) as exc:
        return RefundResult(Outcome.FAILED, code="bad_request", message=str(exc))
    try:
        with AdminClient(app, stores, store) as client:
            reply = client.execute(query, variables)
            result = mutation_result(reply, "refundCreate")
            if result.outcome is Outcome.SUCCEEDED:
                returned(client, execution.source_ref, execution.lines)
    except PlatformError as exc:  # token trouble: refused before anything was sent
        return RefundResult(Outcome.UNAVAILABLE, code="token", message=str(exc))
    return result


def returned(client: AdminClient, source_ref: str, lines: tuple[Line, ...]) -> dict[str, Any]:
    """Process the Return the refund was made for (``connectors.shopify.returns``); the money has
    moved already, so a failure here is logged and left to the next write-back, never raised."""
    if not source_ref.startswith(RETURN_GID) or not lines:
        return {}
    try:
        return process_return(client, source_ref, lines)
    except Exception as exc:  # noqa: BLE001 - the refund stands whatever processing the return does
        log.warning("Shopify return %s was refunded but not processed: %s", source_ref, exc)
        return {"return_not_processed": str(exc)[:500]}


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
        codes = sorted(reply.codes())
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
                order = client.read(bodies.ORDER_QUERY, {"id": order_id}).get("order")
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
            refund = client.read(bodies.REFUND_QUERY, {"id": refund_id}).get("refund")
    except PlatformError as exc:
        return RefundResult(Outcome.UNKNOWN, code="platform_unavailable", message=str(exc))
    return refund_result(refund) if refund else None
