"""Reading back what PayPal knows: an earlier refund attempt, and a payment's refundable balance.

How reliable each source is:
- a refund by its PayPal id (``GET /v2/payments/refunds/{id}``, v1 ``/v1/payments/refund/{id}``)
  is exact;
- the order (``GET /v2/checkout/orders/{id}``, ``purchase_units[].payments.refunds[]``) lists
  every refund of its captures, with the ``custom_id`` / ``invoice_id`` the hub sent, so a lost
  response is found there; the order id comes from ``payment_extra["paypal_order_id"]`` or the
  capture's ``supplementary_data.related_ids.order_id``;
- without an order, a capture's status only says "none" (COMPLETED) or "all" (REFUNDED); a
  partial refund's total is known only from the latest refund's
  ``seller_payable_breakdown.total_refunded_amount`` (``payment_extra["paypal_latest_refund_id"]``).
- a v1 sale has no list of its refunds at all.
When nothing can be found, the hub's same-key re-send is the last lookup: PayPal answers a
repeated ``PayPal-Request-Id`` with the earlier request's refund.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateways.paypal import transformers as tf
from gateways.paypal.client import PayPalApi
from gateways.paypal.errors import not_found
from hub.contracts import Outcome, PaymentState, RefundResult
from hub.errors import PlatformError

LATEST_REFUND = "paypal_latest_refund_id"
ORDER_ID = "paypal_order_id"


def by_id(api: PayPalApi, route: str, refund_id: str) -> RefundResult:
    if route == tf.V1:
        return tf.v1_refund_result(api.sale_refund(refund_id))
    try:
        return tf.v2_refund_result(api.refund(refund_id))
    except Exception as exc:
        if route == tf.AUTO and not_found(exc):
            return tf.v1_refund_result(api.sale_refund(refund_id))
        raise


def in_order(api: PayPalApi, capture_id: str, hub_refund_id: str, extra: Mapping[str, str]) -> RefundResult | None:
    """The refund the hub sent for ``capture_id``, found by its ``custom_id``/``invoice_id``."""
    refunds = order_refunds(api, capture_id, extra, api.capture(capture_id)) or []
    found = tf.owned_by(refunds, hub_refund_id)
    return tf.v2_refund_result(found) if found is not None else None


def void_state(api: PayPalApi, authorization_id: str) -> RefundResult | None:
    result = tf.void_result(api.authorization(authorization_id))
    return result if result.outcome is Outcome.SUCCEEDED else None


def order_refunds(
    api: PayPalApi, capture_id: str, extra: Mapping[str, str], capture: Mapping[str, Any]
) -> list[Mapping[str, Any]] | None:
    order_id = extra.get(ORDER_ID) or tf.related_order_id(capture)
    return None if not order_id else tf.order_refunds(api.order(order_id), capture_id)


def capture_state(api: PayPalApi, capture_id: str, extra: Mapping[str, str]) -> PaymentState:
    capture = api.capture(capture_id)
    captured, currency = _amount(capture.get("amount"), "value", "currency_code", capture_id)
    refunds = order_refunds(api, capture_id, extra, capture)
    if refunds is not None:
        refunded = tf.completed_total(refunds)
    else:
        refunded = _refunded_without_list(api.refund, capture.get("status"), captured, extra, capture_id)
    return PaymentState(
        reference=capture_id,
        currency=currency,
        captured=captured,
        refunded=refunded,
        disputed=tf.is_disputed(capture),
        refunds=tuple(tf.v2_refund_result(r) for r in refunds or ()),
    )


def sale_state(api: PayPalApi, sale_id: str, extra: Mapping[str, str]) -> PaymentState:
    sale = api.sale(sale_id)
    captured, currency = _amount(sale.get("amount"), "total", "currency", sale_id)
    refunded = _refunded_without_list(api.sale_refund, sale.get("state"), captured, extra, sale_id)
    return PaymentState(
        reference=sale_id, currency=currency, captured=captured, refunded=refunded, disputed=tf.is_sale_disputed(sale)
    )


def authorization_state(api: PayPalApi, authorization_id: str) -> PaymentState:
    """An uncaptured authorization: what a void would release, and whether it already did."""
    authorization = api.authorization(authorization_id)
    held, currency = _amount(authorization.get("amount"), "value", "currency_code", authorization_id)
    voided = tf.void_result(authorization).outcome is Outcome.SUCCEEDED
    return PaymentState(reference=authorization_id, currency=currency, captured=held, refunded=held if voided else 0)


def _refunded_without_list(fetch: Any, status: Any, captured: int, extra: Mapping[str, str], reference: str) -> int:
    refunded = tf.refunded_from_status(status, captured)
    if refunded is None and extra.get(LATEST_REFUND):
        refunded = tf.running_total(fetch(extra[LATEST_REFUND]))
    if refunded is None:
        raise PlatformError(
            f"PayPal payment {reference} is {status}; its refunded amount needs the order id "
            f"({ORDER_ID}) or the latest refund id ({LATEST_REFUND})"
        )
    return refunded


def _amount(amount: Any, value_key: str, currency_key: str, reference: str) -> tuple[int, str]:
    value, currency = tf.amount_of(amount, value_key, currency_key)
    if value is None or currency is None:
        raise PlatformError(f"PayPal payment {reference} has no readable amount: {amount!r}")
    return value, currency
