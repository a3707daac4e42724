"""Pure mappings: status tables, error outcomes, exception boundary, routes, amounts, settings."""

from __future__ import annotations

import pytest
import requests
from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
from urllib3.exceptions import MaxRetryError, NameResolutionError, ProtocolError

from gateways.paypal import money
from gateways.paypal import transformers as tf
from gateways.paypal.auth import TokenError
from gateways.paypal.errors import refund_outcome
from gateways.paypal.settings import PayPalSettings
from hub.contracts import Outcome
from hub.errors import ConfigError
from hub.models.money import CurrencyError


def test_status_maps_cover_the_spec_enums() -> None:
    assert set(tf.V2_REFUND_STATUS) == {"CANCELLED", "FAILED", "PENDING", "COMPLETED"}
    assert set(tf.V1_REFUND_STATE) == {"pending", "completed", "cancelled", "failed"}
    assert tf.v2_refund_result({"id": "R", "status": "SOMETHING_NEW"}).outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("status", "issue", "outcome"),
    [
        (400, "INVALID_PARAMETER_SYNTAX", Outcome.FAILED),
        (401, None, Outcome.FAILED),
        (403, "PERMISSION_DENIED", Outcome.FAILED),
        (404, "INVALID_RESOURCE_ID", Outcome.FAILED),
        (408, None, Outcome.UNKNOWN),
        (409, "PREVIOUS_REQUEST_IN_PROGRESS", Outcome.UNKNOWN),
        (422, "REFUND_NOT_ALLOWED", Outcome.FAILED),
        (422, "DUPLICATE_INVOICE_ID", Outcome.UNKNOWN),  # the hub id was already used: money may have moved
        (429, None, Outcome.UNAVAILABLE),
        (500, None, Outcome.UNKNOWN),
        (502, None, Outcome.UNKNOWN),
        (503, None, Outcome.UNKNOWN),
    ],
)
def test_error_outcomes(status: int, issue: str | None, outcome: Outcome) -> None:
    assert tf.failure_outcome(tf.ApiFailure(status=status, issue=issue)) is outcome


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


@pytest.mark.parametrize(
    ("extra", "route"),
    [
        ({}, tf.V2),
        ({"paypal_api": "v1"}, tf.V1),
        ({"paypal_api": "auto"}, tf.AUTO),
        ({"intent": "AUTHORIZE"}, tf.VOID),
        ({"intent": "authorize", "captured": "false"}, tf.VOID),
        ({"intent": "AUTHORIZE", "captured": "true"}, tf.V2),
        ({"intent": "CAPTURE", "captured": "false"}, tf.V2),
    ],
)
def test_routes(extra: dict[str, str], route: str) -> None:
    assert tf.route_for(extra) == route


@pytest.mark.parametrize(
    ("minor", "currency", "value"),
    [
        (1050, "USD", "10.50"),
        (500, "JPY", "500"),
        (10000, "TWD", "100"),
        (150000, "HUF", "1500"),
        (1250, "KWD", "1.250"),
    ],
)
def test_amounts(minor: int, currency: str, value: str) -> None:
    assert money.to_value(minor, currency) == value
    assert money.to_minor_units(value, currency) == minor


def test_amounts_paypal_refuses() -> None:
    for minor, currency, code in [(1001, "TWD", "DECIMALS_NOT_SUPPORTED"), (0, "USD", "CANNOT_BE_ZERO_OR_NEGATIVE")]:
        with pytest.raises(money.AmountNotAccepted) as caught:
            money.to_value(minor, currency)
        assert caught.value.code == code
    assert money.render(0, "USD") == "0.00"


def test_events_need_a_refund_resource() -> None:
    assert tf.webhook_events({"event_type": "PAYMENT.CAPTURE.REFUNDED"}) == []
    assert tf.webhook_events({"event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"id": "C"}}) == []
    [event] = tf.webhook_events({"id": "WH-1", "event_type": "PAYMENT.REFUND.FAILED", "resource": {"id": "R"}})
    assert event.outcome is Outcome.FAILED and event.hub_refund_id is None


def test_settings() -> None:
    production = PayPalSettings.from_mapping(
        "pp", {"client_id": "a", "client_secret": "s3cret", "environment": "production"}
    )
    assert production.base_url == "https://api-m.paypal.com" and "s3cret" not in repr(production)
    sandbox = PayPalSettings.from_mapping("pp", {"client_id": "a", "client_secret": "b"})
    assert (sandbox.base_url, sandbox.timeout) == ("https://api-m.sandbox.paypal.com", 30.0)
    for bad in (
        {"client_secret": "b"},
        {"client_id": "a", "client_secret": "b", "environment": "live"},
        {"client_id": "a", "client_secret": "b", "timeout": "soon"},
    ):
        with pytest.raises(ConfigError):
            PayPalSettings.from_mapping("pp", bad)
