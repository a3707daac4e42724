"""Money on the platform route: WooCommerce asks the order's payment plugin to refund, once.

``POST /orders/{id}/refunds`` moves money through the order's payment plugin unless
``api_refund`` is false (its default is true); only the ``platform`` route sends ``true`` (the
hub's own records, ``record``, send ``false``). WooCommerce has no idempotency key, so a refund
already carrying the hub id is looked for first — in its ``meta_data``, or in its reason, which
``wc_create_refund`` saves with the refund itself (the REST controller saves the meta only after
the payment plugin, e-mails and hooks ran: a request that died in between left the reason only).

Look-up and create are one step per order within a process (``order_claim``): two overlapping
calls for the same order wait for each other, and the second finds the first's refund. Across
processes the hub claims each write-back and each execution under a lease before calling
(``hub/pipeline/writeback.py``); WooCommerce itself offers nothing to close that window.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from connectors.woocommerce import transformers as tx
from connectors.woocommerce.client import WooClient, WooError
from hub.contracts import Execution, Outcome, RefundLookup, RefundResult, WriteBack

PLUGIN_FAILED = "woocommerce_rest_cannot_create_order_refund"  # wc_create_refund() returned a WP_Error


_CLAIMS = tuple(threading.Lock() for _ in range(64))  # striped: bounded, whatever the number of orders


@contextmanager
def order_claim(client: WooClient, order_id: str) -> Iterator[None]:
    """Look-up then create, for one order of one store, by one caller of this process at a time."""
    with _CLAIMS[hash((client.store_id, str(order_id))) % len(_CLAIMS)]:
        yield


def find_hub_refund(client: WooClient, order_id: str, hub_refund_id: str) -> dict[str, Any] | None:
    """The order's refund carrying ``hub_refund_id`` (meta, else reason mark), if any."""
    for refund in client.every(f"orders/{int(order_id)}/refunds"):
        if tx.hub_refund_id_of(refund) == hub_refund_id:
            return dict(refund)
    return None


def refund_on_platform(client: WooClient, execution: Execution, *, restock: bool) -> RefundResult:
    """WooCommerce asks the order's payment plugin to refund (``api_refund: true``), once."""
    order_id = execution.order_id or execution.payment_extra.get("order_id", "")
    if not order_id:
        return RefundResult(outcome=Outcome.FAILED, code="no_order", message="a platform refund needs the order id")
    with order_claim(client, order_id):
        return _refund_once(client, execution, order_id, restock=restock)


def _refund_once(client: WooClient, execution: Execution, order_id: str, *, restock: bool) -> RefundResult:
    try:
        existing = find_hub_refund(client, order_id, execution.hub_refund_id)
        order = None if existing else client.get(f"orders/{int(order_id)}")
    except WooError as exc:  # only reads so far: nothing that moves money was sent
        return _failure(exc, Outcome.UNAVAILABLE if exc.transient else Outcome.FAILED)
    if existing is not None:
        return result_of(existing, execution.currency)
    assert order is not None
    body = refund_body(
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
            refund = next((r for r in listed if tx.hub_refund_id_of(r) == lookup.hub_refund_id), None)
        else:
            return None
    except WooError as exc:
        return _failure(exc, Outcome.UNKNOWN)
    return None if refund is None else result_of(refund, lookup.currency)


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


def refund_body(
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
        reason=tx.hub_reason(refund.note or "Refund Hub", refund.hub_refund_id),
        lines=refund.lines,
        shipping=refund.shipping,
        order=order,
        meta_data=meta_data,
        api_refund=api_refund,
        restock=restock,
        line_amounts=refund.line_amounts,
    )


def _failure(exc: WooError, outcome: Outcome) -> RefundResult:
    return RefundResult(
        outcome=outcome,
        code=exc.code or ("http_" + str(exc.status) if exc.status else "transport"),
        message=exc.message,
        raw_status=str(exc.status) if exc.status else None,
    )
