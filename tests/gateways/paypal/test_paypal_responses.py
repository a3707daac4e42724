"""The adapter against ``responses`` fixtures on api-m.sandbox.paypal.com, shaped like the spec."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from gateways.paypal import PayPalGateway
from hub.contracts import Outcome

SANDBOX = "https://api-m.sandbox.paypal.com"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "paypal"
CAPTURE = "2GG279541U471931P"
SALE = "2MU78835H4515710F"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def paypal() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(f"{SANDBOX}/v1/oauth2/token", json=fixture("token.json"))
        yield mock


@pytest.fixture
def adapter() -> Iterator[PayPalGateway]:
    gateway = PayPalGateway("paypal-main", {"client_id": "client", "client_secret": "secret", "timeout": 5})
    yield gateway
    gateway.close()


def _sent(paypal: responses.RequestsMock, path: str) -> Any:
    return next(call.request for call in paypal.calls if str(call.request.url).endswith(path))


def test_success(paypal, adapter, execution, v2_spec) -> None:  # type: ignore[no-untyped-def]
    paypal.post(f"{SANDBOX}/v2/payments/captures/{CAPTURE}/refund", json=fixture("refund_201.json"), status=201)
    made = execution(CAPTURE, 1000, hub_refund_id="rf_8d1c2a")
    result = adapter.refund(made)
    assert (result.outcome, result.gateway_refund_id, result.amount, result.currency) == (
        Outcome.SUCCEEDED,
        "1JU08902781691411",
        1000,
        "USD",
    )
    sent = _sent(paypal, "/refund")
    assert sent.headers["PayPal-Request-Id"] == made.idempotency_key
    assert sent.headers["Prefer"] == "return=representation"
    assert sent.headers["Authorization"] == "Bearer A21AAFakeAccessTokenForTests"
    body = json.loads(sent.body)
    v2_spec.check_request("/v2/payments/captures/{capture_id}/refund", "post", body)
    assert body == {
        "amount": {"currency_code": "USD", "value": "10.00"},
        "custom_id": "rf_8d1c2a",
        "invoice_id": "rf_8d1c2a",
    }
    token = _sent(paypal, "/v1/oauth2/token")
    assert token.headers["Authorization"].startswith("Basic ") and token.body == "grant_type=client_credentials"


def test_token_is_fetched_once(paypal, adapter, execution) -> None:  # type: ignore[no-untyped-def]
    paypal.post(f"{SANDBOX}/v2/payments/captures/{CAPTURE}/refund", json=fixture("refund_201.json"), status=201)
    adapter.refund(execution(CAPTURE, 1000, hub_refund_id="rf_8d1c2a"))
    adapter.refund(execution(CAPTURE, 1000, hub_refund_id="rf_8d1c2a"))
    assert [c.request.url.rsplit("/", 1)[-1] for c in paypal.calls] == ["token", "refund", "refund"]


def test_full_refund_sends_an_empty_amount(paypal, adapter, execution) -> None:  # type: ignore[no-untyped-def]
    paypal.post(f"{SANDBOX}/v2/payments/captures/{CAPTURE}/refund", json=fixture("refund_201.json"), status=201)
    adapter.refund(execution(CAPTURE, 0, hub_refund_id="rf_8d1c2a", full_refund=True))
    assert json.loads(_sent(paypal, "/refund").body) == {"custom_id": "rf_8d1c2a", "invoice_id": "rf_8d1c2a"}


def test_capture_fully_refunded_is_declined(paypal, adapter, execution) -> None:  # type: ignore[no-untyped-def]
    paypal.post(
        f"{SANDBOX}/v2/payments/captures/{CAPTURE}/refund",
        json=fixture("refund_422_capture_fully_refunded.json"),
        status=422,
    )
    result = adapter.refund(execution(CAPTURE, 1000))
    assert (result.outcome, result.code) == (Outcome.FAILED, "CAPTURE_FULLY_REFUNDED")
    assert result.message == "The capture has already been fully refunded (debug_id b1d1f06c7246c)"


def test_internal_server_error_is_unknown(paypal, adapter, execution) -> None:  # type: ignore[no-untyped-def]
    paypal.post(f"{SANDBOX}/v2/payments/captures/{CAPTURE}/refund", json=fixture("refund_500.json"), status=500)
    result = adapter.refund(execution(CAPTURE, 1000))
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "INTERNAL_SERVER_ERROR")
    assert "90957fca61718" in (result.message or "")


def test_v1_sale_refund_carries_the_request_id(paypal, adapter, execution, v1_spec) -> None:  # type: ignore[no-untyped-def]
    paypal.post(f"{SANDBOX}/v1/payments/sale/{SALE}/refund", json=fixture("sale_refund_201.json"), status=201)
    made = execution(SALE, 2000, hub_refund_id="rf_5e0b7d", payment_extra={"paypal_api": "v1"})
    result = adapter.refund(made)
    assert (result.outcome, result.gateway_refund_id, result.amount) == (Outcome.SUCCEEDED, "4CF18861HF410323U", 2000)
    sent = _sent(paypal, "/refund")
    assert sent.headers["PayPal-Request-Id"] == made.idempotency_key
    assert sent.headers["Authorization"] == "Bearer A21AAFakeAccessTokenForTests"
    body = json.loads(sent.body)
    v1_spec.check_request("/v1/payments/sale/{sale_id}/refund", "post", body)
    assert body == {"invoice_number": "rf_5e0b7d", "amount": {"total": "20.00", "currency": "USD"}}


def test_webhook_fixtures_parse(adapter) -> None:  # type: ignore[no-untyped-def]
    [v2] = adapter.parse_webhook((FIXTURES / "webhook_capture_refunded.json").read_bytes())
    assert (v2.outcome, v2.gateway_refund_id, v2.hub_refund_id, v2.payment_reference, v2.amount) == (
        Outcome.SUCCEEDED,
        "1JU08902781691411",
        "rf_8d1c2a",
        CAPTURE,
        1000,
    )
    [v1] = adapter.parse_webhook((FIXTURES / "webhook_sale_refunded.json").read_bytes())
    assert (v1.outcome, v1.hub_refund_id, v1.payment_reference, v1.amount) == (
        Outcome.SUCCEEDED,
        "rf_5e0b7d",
        SALE,
        2000,
    )
