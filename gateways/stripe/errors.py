"""Every Stripe SDK exception mapped to a hub outcome at the adapter boundary.

FAILED       declined or refused for good: nothing moved (card, auth, permission,
             invalid request such as charge_already_refunded / amount_too_large)
UNAVAILABLE  surely not executed: 429 (Stripe rejects before running), or a connection
             that was never made (refused, DNS) — retry later with the same key
UNKNOWN      maybe executed: timeout, reset, 5xx, 409, anything unexpected, and
             idempotency_error — the key was first sent with other parameters (a hub bug),
             and that first request (this refund's earlier attempt) may have moved money
"""

from __future__ import annotations

from typing import Any

import stripe

from gateways.stripe.client import surely_unsent
from hub.contracts import Outcome, RefundResult
from hub.errors import HubError

# Refusals that no retry will change; the code says which, for the merchant and the audit.
_PERMANENT: tuple[tuple[type[stripe.StripeError], str], ...] = (
    (stripe.CardError, "card_declined"),
    (stripe.AuthenticationError, "authentication_failed"),
    (stripe.PermissionError, "permission_denied"),
    (stripe.InvalidRequestError, "invalid_request"),
)


class StripeLookupFailed(HubError):
    """A read (payment, refund search) that could not be answered; ``unavailable`` if surely unsent."""

    def __init__(self, code: str, message: str, *, unavailable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.unavailable = unavailable


def vendor_code(exc: stripe.StripeError) -> str | None:
    """Stripe's own error code from the exception or its ``{"error": {...}}`` body."""
    if exc.code:
        return exc.code
    body: Any = exc.json_body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def _message(exc: BaseException) -> str:
    if isinstance(exc, stripe.StripeError):
        text = exc.user_message or str(exc)
        status = f"HTTP {exc.http_status}: " if exc.http_status else ""
        return f"{status}{text}"
    return f"{type(exc).__name__}: {exc}"


def classify(exc: BaseException) -> tuple[Outcome, str]:
    """(outcome, code) for an exception raised by one SDK call."""
    if isinstance(exc, stripe.IdempotencyError):
        return Outcome.UNKNOWN, "idempotency_error"  # an earlier request with this key may have run
    for kind, default in _PERMANENT:
        if isinstance(exc, kind):
            return Outcome.FAILED, vendor_code(exc) or default
    if isinstance(exc, stripe.RateLimitError):
        return Outcome.UNAVAILABLE, vendor_code(exc) or "rate_limit"
    if isinstance(exc, stripe.APIConnectionError):
        if surely_unsent(exc):
            return Outcome.UNAVAILABLE, "connection_failed"
        return Outcome.UNKNOWN, "network_error"
    if isinstance(exc, stripe.StripeError):  # APIError: 5xx, 409, unreadable answers
        return Outcome.UNKNOWN, vendor_code(exc) or "api_error"
    return Outcome.UNKNOWN, "unexpected_error"


# A key reused with other parameters means the hub changed a request it had already sent.
_REUSED_KEY = "idempotency key reused with different parameters (hub bug; an earlier request may have run)"


def failure_result(exc: BaseException, *, earlier_attempt_may_have_executed: bool = False) -> RefundResult:
    """The ``RefundResult`` for a refund call that raised."""
    outcome, code = classify(exc)
    message = _message(exc)
    if isinstance(exc, stripe.IdempotencyError):
        message = f"{_REUSED_KEY}: {message}"
    elif outcome is Outcome.FAILED and not isinstance(exc, stripe.InvalidRequestError):
        message = f"permanent: {message}"
    if outcome is Outcome.UNAVAILABLE and earlier_attempt_may_have_executed:
        # The SDK retried after an attempt that may have run: the last error proves nothing.
        outcome, message = Outcome.UNKNOWN, f"{message} (after an earlier attempt that may have run)"
    return RefundResult(outcome=outcome, code=code, message=message)


def lookup_failure(exc: BaseException) -> StripeLookupFailed:
    """The error raised when a read fails (reads have no outcome to return)."""
    outcome, code = classify(exc)
    return StripeLookupFailed(code, _message(exc), unavailable=outcome is Outcome.UNAVAILABLE)
