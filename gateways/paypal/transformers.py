"""Pure functions between PayPal's JSON shapes and the hub's results; read beside PayPal's docs.

No I/O here. PayPal objects arrive as the dicts PayPal sends (v2 ``refund``, v1
``detailed_refund``, v2 ``authorization``, ``order``, webhook ``event``); amounts leave as hub
minor units through ``gateways.paypal.money``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from gateways.paypal import money
from hub.contracts import GatewayEvent, Outcome, RefundResult

if TYPE_CHECKING:
    from paypalserversdk.models.refund_request import RefundRequest

# Payments v2 refund ``status`` (spec ``refund_status``). CANCELLED moved no money.
V2_REFUND_STATUS: dict[str, Outcome] = {
    "COMPLETED": Outcome.SUCCEEDED,
    "PENDING": Outcome.PENDING,
    "FAILED": Outcome.FAILED,
    "CANCELLED": Outcome.FAILED,
}

# Payments v1 refund ``state`` (deprecated API, lower case).
V1_REFUND_STATE: dict[str, Outcome] = {
    "completed": Outcome.SUCCEEDED,
    "pending": Outcome.PENDING,
    "failed": Outcome.FAILED,
    "cancelled": Outcome.FAILED,
}

# A void releases the whole authorization: VOIDED is the only state in which it happened.
VOID_STATUS: dict[str, Outcome] = {"VOIDED": Outcome.SUCCEEDED}

# Refund webhooks, and the outcome they imply when the resource carries no status.
REFUND_EVENTS: dict[str, Outcome] = {
    "PAYMENT.CAPTURE.REFUNDED": Outcome.SUCCEEDED,
    "PAYMENT.REFUND.PENDING": Outcome.PENDING,
    "PAYMENT.REFUND.COMPLETED": Outcome.SUCCEEDED,
    "PAYMENT.REFUND.FAILED": Outcome.FAILED,
    "PAYMENT.SALE.REFUNDED": Outcome.SUCCEEDED,
}
V1_EVENTS = frozenset({"PAYMENT.SALE.REFUNDED"})

# HTTP status of a PayPal error answer -> outcome; other 4xx are declines, 5xx maybe-sent.
ERROR_STATUS: dict[int, Outcome] = {
    408: Outcome.UNKNOWN,
    409: Outcome.UNKNOWN,  # PREVIOUS_REQUEST_IN_PROGRESS: the first request may still move money
    429: Outcome.UNAVAILABLE,  # rate limited before processing: retry later with the same key
}
# Issues that mean "a refund for this may already exist", whatever their status code.
UNKNOWN_ISSUES = frozenset({"PREVIOUS_REQUEST_IN_PROGRESS", "DUPLICATE_INVOICE_ID"})
NOT_FOUND_ISSUES = frozenset({"RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID"})

# What a capture's (v2) or sale's (v1) status alone says about its refunds: True = all of it,
# False = none; PARTIALLY_REFUNDED / partially_refunded need a refund's running total.
REFUNDED_BY_STATUS: dict[str, bool] = {
    "COMPLETED": False,
    "PENDING": False,
    "REFUNDED": True,
    "completed": False,
    "pending": False,
    "refunded": True,
}
DISPUTE_REASONS = frozenset({"BUYER_COMPLAINT", "CHARGEBACK"})
# v1 Sale ``reason_code``, "why the transaction state is pending or reversed": a buyer's complaint,
# a chargeback, a money-back guarantee claim — each a dispute over the money
SALE_DISPUTE_REASONS = frozenset({"BUYER_COMPLAINT", "CHARGEBACK", "GUARANTEE"})

VOID, V1, V2, AUTO = "void", "v1", "v2", "auto"
_TRUTHY = frozenset({"1", "true", "yes", "y", "on"})


@dataclass(frozen=True)
class ApiFailure:
    """A PayPal error answer reduced to what decides the outcome (both v1 and v2 envelopes)."""

    status: int
    name: str | None = None
    issue: str | None = None
    description: str | None = None
    debug_id: str | None = None

    @property
    def code(self) -> str:
        return self.issue or self.name or f"HTTP_{self.status}"

    @property
    def not_found(self) -> bool:
        return self.status == 404 and bool({self.name, self.issue} & NOT_FOUND_ISSUES)


def failure_from_body(status: int, body: Any) -> ApiFailure:
    """Read PayPal's ``{"name", "message", "debug_id", "details": [{"issue", "description"}]}``."""
    if not isinstance(body, Mapping):
        return ApiFailure(status=status)
    details = body.get("details") or [{}]
    first = details[0] if isinstance(details[0], Mapping) else {}
    oauth_error = body.get("error")  # the token endpoint answers in OAuth 2 form instead
    return ApiFailure(
        status=status,
        name=body.get("name") or oauth_error,
        issue=first.get("issue"),
        description=first.get("description") or body.get("message") or body.get("error_description"),
        debug_id=body.get("debug_id"),
    )


def failure_outcome(failure: ApiFailure) -> Outcome:
    if failure.issue in UNKNOWN_ISSUES:
        return Outcome.UNKNOWN
    if failure.status >= 500:
        return Outcome.UNKNOWN
    return ERROR_STATUS.get(failure.status, Outcome.FAILED if failure.status >= 400 else Outcome.UNKNOWN)


def failure_result(failure: ApiFailure) -> RefundResult:
    message = failure.description or failure.name or f"PayPal answered HTTP {failure.status}"
    if failure.debug_id:
        message = f"{message} (debug_id {failure.debug_id})"
    return RefundResult(outcome=failure_outcome(failure), code=failure.code, message=message)


def route_for(extra: Mapping[str, str]) -> str:
    """Which PayPal call carries out a refund of this payment (see the package docstring)."""
    intent = str(extra.get("intent", "")).upper()
    if intent == "AUTHORIZE" and str(extra.get("captured", "")).strip().lower() not in _TRUTHY:
        return VOID
    return {"v1": V1, "auto": AUTO}.get(str(extra.get("paypal_api", V2)).lower(), V2)


# -- requests --------------------------------------------------------------------------------
def refund_request(hub_refund_id: str, value: str | None, currency: str) -> RefundRequest:
    """The v2 body. ``value`` None is a full refund: PayPal refunds "captured amount - previous
    refunds". The hub refund id goes in both ``custom_id`` and ``invoice_id`` so a lost response
    can be found in the order; ``invoice_id`` must be unique per refund, and hub ids are."""
    from paypalserversdk.models.money import Money
    from paypalserversdk.models.refund_request import RefundRequest

    if value is None:
        return RefundRequest(custom_id=hub_refund_id, invoice_id=hub_refund_id)
    return RefundRequest(
        amount=Money(currency_code=currency, value=value), custom_id=hub_refund_id, invoice_id=hub_refund_id
    )


def sale_refund_body(hub_refund_id: str, value: str | None, currency: str) -> dict[str, Any]:
    """The v1 ``refund_request``: no ``amount`` refunds the whole sale."""
    body: dict[str, Any] = {"invoice_number": hub_refund_id}
    if value is not None:
        body["amount"] = {"total": value, "currency": currency}
    return body


# -- results ---------------------------------------------------------------------------------
def amount_of(amount: Any, value_key: str, currency_key: str) -> tuple[int | None, str | None]:
    if not isinstance(amount, Mapping) or not amount.get(value_key) or not amount.get(currency_key):
        return None, None
    currency = str(amount[currency_key]).upper()
    try:
        return money.to_minor_units(str(amount[value_key]), currency), currency
    except (money.AmountNotAccepted, ValueError):
        return None, currency


def _result(
    resource: Mapping[str, Any], statuses: Mapping[str, Outcome], status_key: str = "status", v1: bool = False
) -> RefundResult:
    status = resource.get(status_key)
    amount, currency = amount_of(resource.get("amount"), *(("total", "currency") if v1 else ("value", "currency_code")))
    return RefundResult(
        outcome=statuses.get(str(status), Outcome.UNKNOWN),
        gateway_refund_id=resource.get("id"),
        amount=amount,
        currency=currency,
        raw_status=status,
    )


def v2_refund_result(refund: Mapping[str, Any]) -> RefundResult:
    result = _result(refund, V2_REFUND_STATUS)
    reason = (refund.get("status_details") or {}).get("reason")  # ECHECK: pending until the eCheck clears
    return (
        replace(result, code=reason, message=f"refund {str(result.raw_status).lower()}: {reason}") if reason else result
    )


def v1_refund_result(refund: Mapping[str, Any]) -> RefundResult:
    return _result(refund, V1_REFUND_STATE, status_key="state", v1=True)


def void_result(authorization: Mapping[str, Any]) -> RefundResult:
    return _result(authorization, VOID_STATUS)


def replay_mismatch(
    result: RefundResult, refund: Mapping[str, Any], hub_refund_id: str, amount: int | None
) -> RefundResult | None:
    """PayPal answers a repeated ``PayPal-Request-Id`` with the earlier request's refund, whatever
    the new body says. When that refund is not this request's, say so instead of succeeding."""
    owner = refund.get("custom_id") or refund.get("invoice_id") or refund.get("invoice_number")
    if owner and owner != hub_refund_id:
        return RefundResult(
            outcome=Outcome.FAILED,
            code="IDEMPOTENCY_KEY_REUSED",
            message=f"the key was already used for hub refund {owner} (PayPal refund {result.gateway_refund_id})",
        )
    if amount is not None and result.amount is not None and result.amount != amount:
        return RefundResult(
            outcome=Outcome.UNKNOWN,
            gateway_refund_id=result.gateway_refund_id,
            amount=result.amount,
            currency=result.currency,
            code="IDEMPOTENCY_KEY_REUSED",
            raw_status=result.raw_status,
            message=f"the key was first used for {result.amount}, not {amount}: look the refund up",
        )
    return None


# -- orders and captures ---------------------------------------------------------------------
def link_target(resource: Mapping[str, Any], rel: str, kind: str = "") -> str | None:
    """Last path segment of the HATEOAS link ``rel`` whose URL contains ``kind`` (a refund's
    ``up`` link is its capture; a capture's is its order, or its authorization)."""
    for link in resource.get("links") or []:
        href = str(link.get("href") or "") if isinstance(link, Mapping) else ""
        if link.get("rel") == rel and href and kind in href:
            return href.rstrip("/").rsplit("/", 1)[-1]
    return None


def order_refunds(order: Mapping[str, Any], capture_id: str) -> list[Mapping[str, Any]]:
    """Refunds of ``capture_id`` in an order's ``purchase_units[].payments.refunds[]``."""
    found: list[Mapping[str, Any]] = []
    for unit in order.get("purchase_units") or []:
        for refund in (unit.get("payments") or {}).get("refunds") or []:
            if link_target(refund, "up") in (capture_id, None):
                found.append(refund)
    return found


def owned_by(refunds: Iterable[Mapping[str, Any]], hub_refund_id: str) -> Mapping[str, Any] | None:
    for refund in refunds:
        if hub_refund_id in (refund.get("custom_id"), refund.get("invoice_id")):
            return refund
    return None


def completed_total(refunds: Iterable[Mapping[str, Any]]) -> int:
    return sum(v2_refund_result(r).amount or 0 for r in refunds if r.get("status") == "COMPLETED")


def related_order_id(resource: Mapping[str, Any]) -> str | None:
    related = ((resource.get("supplementary_data") or {}).get("related_ids")) or {}
    return related.get("order_id") or link_target(resource, "up", "/checkout/orders/")


def refunded_from_status(status: Any, captured: int) -> int | None:
    whole = REFUNDED_BY_STATUS.get(str(status))
    return None if whole is None else (captured if whole else 0)


def running_total(refund: Mapping[str, Any]) -> int | None:
    """The payment's refunded-to-date amount a refund reports (v2 breakdown or v1 field)."""
    breakdown = refund.get("seller_payable_breakdown") or {}
    amount, _ = amount_of(breakdown.get("total_refunded_amount"), "value", "currency_code")
    if amount is None:
        amount, _ = amount_of(refund.get("total_refunded_amount"), "value", "currency")
    return amount


def is_disputed(capture: Mapping[str, Any]) -> bool:
    return (capture.get("status_details") or {}).get("reason") in DISPUTE_REASONS


def is_sale_disputed(sale: Mapping[str, Any]) -> bool:
    """A legacy v1 sale under dispute: its ``reason_code`` (the v2 capture's ``status_details``)."""
    return str(sale.get("reason_code") or "").upper() in SALE_DISPUTE_REASONS


# -- webhooks --------------------------------------------------------------------------------
def webhook_events(event: Mapping[str, Any]) -> list[GatewayEvent]:
    """Refund status events in a verified webhook body; other event types give nothing."""
    event_type = str(event.get("event_type", ""))
    resource = event.get("resource")
    if event_type not in REFUND_EVENTS or not isinstance(resource, Mapping) or not resource.get("id"):
        return []
    if event_type in V1_EVENTS:
        result = v1_refund_result(resource)
        if result.amount is not None:  # PayPal's own v1 samples write the refunded total negative
            result = replace(result, amount=abs(result.amount))
        hub_id = resource.get("invoice_number") or resource.get("custom")
        payment = resource.get("sale_id") or link_target(resource, "sale")
    else:
        result = v2_refund_result(resource)
        hub_id = resource.get("custom_id") or resource.get("invoice_id")
        payment = link_target(resource, "up")
    outcome = result.outcome if result.outcome is not Outcome.UNKNOWN else REFUND_EVENTS[event_type]
    return [
        GatewayEvent(
            gateway_refund_id=str(resource["id"]),
            outcome=outcome,
            payment_reference=payment,
            hub_refund_id=hub_id or None,
            amount=result.amount,
            currency=result.currency,
            event_id=event.get("id"),
        )
    ]
