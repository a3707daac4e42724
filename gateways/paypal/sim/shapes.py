"""The JSON PayPal answers with, built from the simulator's ledger (shapes from the spec extracts).

Payments v2 ``refund`` / ``capture`` / ``authorization``, Orders v2 ``order``, Payments v1
``detailed_refund`` / ``sale``, webhook ``event`` and the error envelope
``{"name", "message", "debug_id", "details": [{"issue", "description"}], "links"}``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from gateways.paypal import money
from hub.sandbox.gatewaysim import FAILED, PENDING, SUCCEEDED, SimPayment, SimRefund

V2_STATUS = {PENDING: "PENDING", SUCCEEDED: "COMPLETED", FAILED: "FAILED"}
V1_STATE = {PENDING: "pending", SUCCEEDED: "completed", FAILED: "failed"}

# HTTP status -> (name, message) of PayPal's v2 error envelope (spec ``error_4xx``/``error_5xx``).
ERRORS: dict[int, tuple[str, str]] = {
    400: ("INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema."),
    401: (
        "AUTHENTICATION_FAILURE",
        "Authentication failed due to missing authorization header, or invalid authentication credentials.",
    ),
    403: ("NOT_AUTHORIZED", "Authorization failed due to insufficient permissions."),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    409: ("RESOURCE_CONFLICT", "The server has detected a conflict while processing this request."),
    422: (
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
    ),
    429: ("RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."),
    500: ("INTERNAL_SERVER_ERROR", "An internal server error occurred."),
    503: ("SERVICE_UNAVAILABLE", "Service Unavailable."),
}

# Issue descriptions exactly as the spec's enums spell them.
ISSUES: dict[str, str] = {
    "INVALID_RESOURCE_ID": "Specified resource ID does not exist. Please check the resource ID and try again.",
    "PREVIOUS_REQUEST_IN_PROGRESS": (
        "A previous request on this resource is currently in progress. Please wait for sometime and try again. "
        "It is best to space out the initial and the subsequent request(s) to avoid receiving this error."
    ),
    "CAPTURE_FULLY_REFUNDED": "The capture has already been fully refunded",
    "REFUND_AMOUNT_EXCEEDED": (
        "The refund amount must be less than or equal to the capture amount that has not yet been refunded."
    ),
    "REFUND_CAPTURE_CURRENCY_MISMATCH": "Refund must be in the same currency as the capture",
    "TRANSACTION_DISPUTED": (
        "Partial refunds cannot be offered at this time because there is an open case on this transaction. "
        "Visit the PayPal Resolution Center to review this case."
    ),
    "DUPLICATE_INVOICE_ID": "Invoice ID was previously used to refund a capture.",
    "PREVIOUSLY_VOIDED": "Authorization has been previously voided and hence cannot be voided again.",
}


class Answer(Exception):
    """Stop handling and answer ``status`` with ``body`` (PayPal's error envelope)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def timestamp(when: float | None = None) -> str:
    moment = datetime.now(UTC) if when is None else datetime.fromtimestamp(when, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def debug_id() -> str:
    return secrets.token_hex(7)


def error(status: int, issue: str | None = None, description: str | None = None) -> dict[str, Any]:
    name, message = ERRORS.get(status, ERRORS[500])
    body: dict[str, Any] = {"name": name, "message": message, "debug_id": debug_id()}
    if issue:
        body["details"] = [{"issue": issue, "description": description or ISSUES.get(issue, message)}]
    anchor = issue or name
    body["links"] = [
        {
            "href": f"https://developer.paypal.com/docs/api/payments/v2/#error-{anchor}",
            "rel": "information_link",
            "method": "GET",
        }
    ]
    return body


def oauth_error(error: str, description: str) -> dict[str, Any]:
    """The OAuth 2 envelope (the token endpoint; a bearer token refused for being invalid or expired)."""
    return {"error": error, "error_description": description}


def v1_error(name: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The deprecated v1 envelope: a business error is a ``name``, not a detail ``issue``."""
    body: dict[str, Any] = {
        "name": name,
        "message": message,
        "debug_id": debug_id(),
        "information_link": f"https://developer.paypal.com/docs/api/payments/v1/#error-{name}",
    }
    if field:
        body["details"] = [{"field": field, "issue": message}]
    return body


def v2_money(minor: int, currency: str) -> dict[str, str]:
    return {"currency_code": currency, "value": money.render(minor, currency)}


def link(href: str, rel: str, method: str = "GET") -> dict[str, str]:
    return {"href": href, "rel": rel, "method": method}


def v2_refund(base: str, refund: SimRefund, refunded_to_date: int, minimal: bool = False) -> dict[str, Any]:
    status = V2_STATUS[refund.status]
    links = [
        link(f"{base}/v2/payments/refunds/{refund.id}", "self"),
        link(f"{base}/v2/payments/captures/{refund.payment_id}", "up"),
    ]
    if minimal:
        return {"id": refund.id, "status": status, "links": links}
    body: dict[str, Any] = {"id": refund.id, "amount": v2_money(refund.amount, refund.currency), "status": status}
    if refund.status == PENDING:
        body["status_details"] = {"reason": "ECHECK"}
    for key in ("invoice_id", "custom_id", "note_to_payer"):
        if refund.metadata.get(key):
            body[key] = refund.metadata[key]
    body["seller_payable_breakdown"] = {
        "gross_amount": v2_money(refund.amount, refund.currency),
        "paypal_fee": v2_money(0, refund.currency),
        "net_amount": v2_money(refund.amount, refund.currency),
        "total_refunded_amount": v2_money(refunded_to_date, refund.currency),
    }
    body.update(links=links, create_time=timestamp(refund.created), update_time=timestamp())
    return body


def capture(base: str, payment: SimPayment, completed_refunds: int) -> dict[str, Any]:
    if completed_refunds >= payment.amount:
        status = "REFUNDED"
    elif completed_refunds:
        status = "PARTIALLY_REFUNDED"
    else:
        status = "COMPLETED"
    body: dict[str, Any] = {
        "id": payment.id,
        "amount": v2_money(payment.amount, payment.currency),
        "final_capture": True,
        "status": status,
    }
    if payment.disputed:
        body["status_details"] = {"reason": "BUYER_COMPLAINT"}
    order_id = payment.extra["order_id"]
    body.update(
        supplementary_data={"related_ids": {"order_id": order_id}},
        links=[
            link(f"{base}/v2/payments/captures/{payment.id}", "self"),
            link(f"{base}/v2/payments/captures/{payment.id}/refund", "refund", "POST"),
            link(f"{base}/v2/checkout/orders/{order_id}", "up"),
        ],
        create_time=timestamp(payment.created),
        update_time=timestamp(),
    )
    return body


def authorization(base: str, payment: SimPayment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "status": payment.extra["status"],
        "amount": v2_money(payment.amount, payment.currency),
        "supplementary_data": {"related_ids": {"order_id": payment.extra["order_id"]}},
        "links": [link(f"{base}/v2/payments/authorizations/{payment.id}", "self")],
        "create_time": timestamp(payment.created),
        "update_time": timestamp(),
    }


def order(
    base: str, order_id: str, captures: list[dict[str, Any]], refunds: list[dict[str, Any]], total: dict[str, str]
) -> dict[str, Any]:
    unit = {"reference_id": "default", "amount": total, "payments": {"captures": captures, "refunds": refunds}}
    return {
        "id": order_id,
        "intent": "CAPTURE",
        "status": "COMPLETED",
        "purchase_units": [unit],
        "links": [link(f"{base}/v2/checkout/orders/{order_id}", "self")],
        "create_time": timestamp(),
        "update_time": timestamp(),
    }


def v1_amount(minor: int, currency: str) -> dict[str, str]:
    return {"total": money.render(minor, currency), "currency": currency}


def v1_refund(base: str, refund: SimRefund, parent: str, refunded_to_date: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": refund.id,
        "create_time": timestamp(refund.created),
        "update_time": timestamp(),
        "state": V1_STATE[refund.status],
        "amount": v1_amount(refund.amount, refund.currency),
        "refund_from_transaction_fee": {"currency": refund.currency, "value": money.render(0, refund.currency)},
        "total_refunded_amount": {
            "currency": refund.currency,
            "value": money.render(refunded_to_date, refund.currency),
        },
        "refund_from_received_amount": {
            "currency": refund.currency,
            "value": money.render(refund.amount, refund.currency),
        },
        "sale_id": refund.payment_id,
        "parent_payment": parent,
    }
    if refund.metadata.get("invoice_number"):
        body["invoice_number"] = refund.metadata["invoice_number"]
    body["links"] = [
        link(f"{base}/v1/payments/refund/{refund.id}", "self"),
        link(f"{base}/v1/payments/payment/{parent}", "parent_payment"),
        link(f"{base}/v1/payments/sale/{refund.payment_id}", "sale"),
    ]
    return body


def sale(base: str, payment: SimPayment, completed_refunds: int) -> dict[str, Any]:
    state = (
        "refunded"
        if completed_refunds >= payment.amount
        else "partially_refunded"
        if completed_refunds
        else "completed"
    )
    body = {
        "id": payment.id,
        "state": state,
        "amount": v1_amount(payment.amount, payment.currency),
        "parent_payment": payment.extra["parent_payment"],
        "create_time": timestamp(payment.created),
        "links": [link(f"{base}/v1/payments/sale/{payment.id}", "self")],
    }
    if payment.disputed:
        body["reason_code"] = "BUYER_COMPLAINT"
    return body


def event(
    base: str, event_type: str, resource_type: str, resource: dict[str, Any], summary: str, version: str
) -> dict[str, Any]:
    event_id = f"WH-{secrets.token_hex(8).upper()}-{secrets.token_hex(8).upper()}"
    return {
        "id": event_id,
        "event_version": "1.0",
        "create_time": timestamp(),
        "resource_type": resource_type,
        "resource_version": version,
        "event_type": event_type,
        "summary": summary,
        "resource": resource,
        "links": [link(f"{base}/v1/notifications/webhooks-events/{event_id}", "self")],
    }
