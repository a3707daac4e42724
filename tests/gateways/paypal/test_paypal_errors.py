"""The adapter's boundary: every SDK, token and transport exception becomes an outcome."""

from __future__ import annotations

import pytest
import requests
from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
from urllib3.exceptions import MaxRetryError, NameResolutionError, ProtocolError

from gateways.paypal import money
from gateways.paypal import transformers as tf
from gateways.paypal.auth import TokenError
from gateways.paypal.errors import refund_outcome
from hub.contracts import Outcome
from hub.models.money import CurrencyError


def _refused() -> requests.ConnectionError:
    reason = NameResolutionError("api-m.paypal.com", None, OSError("Name or service not known"))  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, "/v2/payments/captures/X/refund", reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "outcome", "code"),
    [
        (
            AuthValidationException("ClientCredentialsAuth: OAuthToken is undefined or expired."),
            Outcome.FAILED,
            "AUTHENTICATION_FAILURE",
        ),
        (
            TokenError("refused", tf.ApiFailure(status=401, name="invalid_client")),
            Outcome.FAILED,
            "AUTHENTICATION_FAILURE",
        ),
        (TokenError("unreachable"), Outcome.UNAVAILABLE, "TOKEN_UNAVAILABLE"),
        (requests.ConnectTimeout("connect timed out"), Outcome.UNAVAILABLE, "ConnectTimeout"),
        (requests.ReadTimeout("read timed out"), Outcome.UNKNOWN, "ReadTimeout"),
        (
            requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104))),
            Outcome.UNKNOWN,
            "ConnectionError",
        ),
        (CurrencyError("unknown ISO 4217 currency 'XYZ'"), Outcome.FAILED, "INVALID_CURRENCY_CODE"),
        (money.AmountNotAccepted("DECIMALS_NOT_SUPPORTED", "no"), Outcome.FAILED, "DECIMALS_NOT_SUPPORTED"),
        (ValueError("surprise"), Outcome.UNKNOWN, "UNEXPECTED_ERROR"),
    ],
)
def test_exception_boundary(exc: BaseException, outcome: Outcome, code: str) -> None:
    result = refund_outcome(exc)
    assert (result.outcome, result.code) == (outcome, code)


def test_dns_failure_is_unavailable() -> None:
    assert refund_outcome(_refused()).outcome is Outcome.UNAVAILABLE
