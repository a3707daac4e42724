"""The adapter's boundary: every SDK, token and transport exception becomes a ``RefundResult``.

- PayPal answered with an error (``ErrorException``, plain ``ApiException`` for 500, or our
  ``PayPalHttpError``): the status and issue decide (``transformers.failure_outcome``).
- No token (``TokenError``) or the SDK's ``AuthValidationException``: the refund was never
  sent; bad credentials are a decline (``AUTHENTICATION_FAILURE``) so the hub does not retry
  them forever, an unreachable token endpoint is ``unavailable``.
- A 401 on the call itself is a token gone stale: ``client`` fetches a new one and sends the
  same request once more; PayPal refusing the new token too (``TokenRefused``) is
  ``unavailable`` (nothing was done), never a decline.
- ``requests`` errors: ``unavailable`` only when no connection was ever made (refused, DNS,
  connect timeout); a read timeout or a reset after connecting is ``unknown``.
"""

from __future__ import annotations

import logging

import requests
import urllib3
from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
from paypalserversdk.exceptions.api_exception import ApiException
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from gateways.paypal.auth import TokenError, TokenRefused
from gateways.paypal.client import PayPalHttpError, sdk_failure
from gateways.paypal.money import AmountNotAccepted
from gateways.paypal.transformers import ApiFailure, failure_result
from hub.contracts import Outcome, RefundResult
from hub.errors import HubError, PlatformError, PlatformUnavailable
from hub.models.money import CurrencyError

log = logging.getLogger(__name__)

AUTHENTICATION_FAILURE = "AUTHENTICATION_FAILURE"


def failure_of(exc: BaseException) -> ApiFailure | None:
    """PayPal's error answer carried by ``exc``, if PayPal answered at all."""
    if isinstance(exc, PayPalHttpError):
        return exc.failure
    if isinstance(exc, ApiException):
        return sdk_failure(exc)
    return None


def not_found(exc: BaseException) -> bool:
    """PayPal said the id does not exist (404 RESOURCE_NOT_FOUND / INVALID_RESOURCE_ID)."""
    failure = failure_of(exc)
    return failure is not None and failure.not_found


def refund_outcome(exc: BaseException) -> RefundResult:
    """What an exception raised while refunding means for the money."""
    if isinstance(exc, AmountNotAccepted):
        return RefundResult(outcome=Outcome.FAILED, code=exc.code, message=exc.message)
    if isinstance(exc, CurrencyError):
        return RefundResult(outcome=Outcome.FAILED, code="INVALID_CURRENCY_CODE", message=str(exc))
    failure = failure_of(exc)
    if failure is not None:
        return failure_result(failure)
    if isinstance(exc, TokenRefused):
        # PayPal refused even a new token, before acting: surely not sent, retry later (same key).
        return RefundResult(outcome=Outcome.UNAVAILABLE, code=exc.failure.code, message=str(exc))
    if isinstance(exc, TokenError):
        if exc.failure is not None and exc.failure.status in (400, 401, 403):
            return _declined_credentials(str(exc))
        return RefundResult(outcome=Outcome.UNAVAILABLE, code="TOKEN_UNAVAILABLE", message=str(exc))
    if isinstance(exc, AuthValidationException):
        return _declined_credentials(exc.message)
    if isinstance(exc, requests.RequestException | urllib3.exceptions.HTTPError):  # raw urllib3 when retries=False
        outcome = Outcome.UNAVAILABLE if never_connected(exc) else Outcome.UNKNOWN
        return RefundResult(outcome=outcome, code=type(exc).__name__, message=str(exc))
    log.warning("unexpected error talking to PayPal", exc_info=exc)
    return RefundResult(outcome=Outcome.UNKNOWN, code="UNEXPECTED_ERROR", message=f"{type(exc).__name__}: {exc}")


def lookup_outcome(exc: BaseException) -> RefundResult | None:
    """A failed lookup: None when PayPal says the thing does not exist, else still unknown."""
    if not_found(exc):
        return None
    result = refund_outcome(exc)
    return RefundResult(outcome=Outcome.UNKNOWN, code=result.code, message=f"lookup failed: {result.message}")


def read_error(exc: BaseException, what: str) -> HubError:
    """A failed read of a payment, as the hub's error: unavailable when asking again may help."""
    result = refund_outcome(exc)
    message = f"PayPal {what}: {result.code}: {result.message}"
    if result.outcome in (Outcome.UNAVAILABLE, Outcome.UNKNOWN):
        return PlatformUnavailable(message)
    return PlatformError(message)


def _declined_credentials(message: str) -> RefundResult:
    return RefundResult(
        outcome=Outcome.FAILED, code=AUTHENTICATION_FAILURE, message=f"PayPal credentials refused: {message}"
    )


def never_connected(exc: BaseException) -> bool:
    """True when the chain shows the TCP connection was never established, so nothing was sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectTimeoutError):
            return True
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
    return False
