"""The adapter against canned Stripe answers (``responses``), shaped like the spec's own examples.

The SDK sends sync calls through ``requests``, so ``responses`` sees them at api.stripe.com.
"""

from __future__ import annotations

import socket

import pytest
import requests
import responses
import urllib3.exceptions

from gateways.stripe import StripeGateway
from gateways.stripe.errors import StripeLookupFailed
from hub.contracts import Outcome

API = "https://api.stripe.com/v1/refunds"


@pytest.fixture
def gateway():
    return StripeGateway("stripe-main", {"api_key": "sk_test_responses", "max_network_retries": 0, "timeout": 2})


@pytest.fixture
def example_refund(spec):
    refund = dict(spec.document["x-example-refund-fixture"]["value"])
    spec.check(refund, "refund")
    return refund


def _error(spec, kind, message, code=None, param=None):
    body = {"type": kind, "message": message, **({"code": code} if code else {}), **({"param": param} if param else {})}
    spec.check(body, "api_errors")
    return {"error": body}


def _dns_failure() -> Exception:
    gaierror = socket.gaierror(-2, "Name or service not known")
    return urllib3.exceptions.NameResolutionError("api.stripe.com", None, gaierror)  # type: ignore[arg-type]


def _api_calls() -> list[requests.PreparedRequest]:
    """Calls to Stripe only (a simulator's webhook thread from other tests may post meanwhile)."""
    return [call.request for call in responses.calls if (call.request.url or "").startswith("https://api.stripe.com/")]


def _refused(cause: Exception | None = None) -> requests.exceptions.ConnectionError:
    """What requests raises when no connection could be made: refused unless ``cause`` says (DNS)."""
    reason = cause or urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, API, reason))  # type: ignore[arg-type]


@responses.activate
def test_success_shaped_like_the_spec_example(gateway, execution, example_refund):
    responses.post(API, json=example_refund)
    result = gateway.refund(execution("ch_1PgafuB7WZ01zgkWXYmPNZs8", 100, idempotency_key="hub-key-1"))
    assert result.outcome is Outcome.SUCCEEDED
    assert (result.gateway_refund_id, result.amount, result.currency) == (example_refund["id"], 100, "USD")
    sent = _api_calls()[0]
    assert sent.headers["Idempotency-Key"] == "hub-key-1"
    assert "charge=ch_1PgafuB7WZ01zgkWXYmPNZs8" in sent.body and "metadata[hub_refund_id]" in requests.utils.unquote(
        sent.body
    )


@responses.activate
def test_card_decline_402_is_permanent(gateway, execution, spec):
    responses.post(API, status=402, json=_error(spec, "card_error", "Your card was declined.", "card_declined"))
    result = gateway.refund(execution("pi_123", 100))
    assert (result.outcome, result.code) == (Outcome.FAILED, "card_declined")
    assert result.message.startswith("permanent: HTTP 402")


@responses.activate
def test_amount_too_large_400_is_declined(gateway, execution, spec):
    body = _error(
        spec,
        "invalid_request_error",
        "Refund amount ($10.01) is greater than charge amount ($10.00)",
        "amount_too_large",
        "amount",
    )
    responses.post(API, status=400, json=body)
    result = gateway.refund(execution("pi_123", 1001))
    assert (result.outcome, result.code) == (Outcome.FAILED, "amount_too_large")
    assert "greater than charge amount" in result.message


@responses.activate
def test_permission_error_403_is_permanent(gateway, execution, spec):
    responses.post(API, status=403, json=_error(spec, "invalid_request_error", "This key lacks rak_refund_write."))
    result = gateway.refund(execution("pi_123", 100))
    assert (result.outcome, result.code) == (Outcome.FAILED, "permission_denied")


@responses.activate
def test_500_is_unknown(gateway, execution, spec):
    responses.post(API, status=500, json=_error(spec, "api_error", "An unknown error occurred"))
    result = gateway.refund(execution("pi_123", 100))
    assert result.outcome is Outcome.UNKNOWN
    assert result.message.startswith("HTTP 500")


@responses.activate
def test_unreadable_answer_is_unknown(gateway, execution):
    responses.post(API, status=200, body="<html>proxy error</html>")
    assert gateway.refund(execution("pi_123", 100)).outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("raised", "outcome"),
    [
        (
            _refused(_dns_failure()),
            Outcome.UNAVAILABLE,
        ),
        (_refused(), Outcome.UNAVAILABLE),
        (requests.exceptions.ConnectTimeout("connect timed out"), Outcome.UNAVAILABLE),
        (requests.exceptions.ReadTimeout("read timed out"), Outcome.UNKNOWN),
        (
            requests.exceptions.ConnectionError(
                urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())
            ),
            Outcome.UNKNOWN,
        ),
    ],
)
@responses.activate
def test_transport_errors_split_into_unsent_and_maybe_sent(gateway, execution, raised, outcome):
    responses.post(API, body=raised)
    assert gateway.refund(execution("pi_123", 100)).outcome is outcome


@responses.activate
def test_refusal_after_a_retried_500_is_not_claimed_unsent(execution, spec):
    """The SDK retried: the first attempt reached Stripe, so the final refusal proves nothing."""
    gateway = StripeGateway("stripe-main", {"api_key": "sk_test_responses", "max_network_retries": 1})
    responses.post(API, status=500, json=_error(spec, "api_error", "boom"))
    responses.post(API, body=_refused())
    result = gateway.refund(execution("pi_123", 100))
    assert result.outcome is Outcome.UNKNOWN
    assert len(_api_calls()) == 2


@responses.activate
def test_payment_lookup_failure_raises_a_hub_error(gateway):
    responses.get(
        "https://api.stripe.com/v1/payment_intents/pi_123",
        body=_refused(),
    )
    with pytest.raises(StripeLookupFailed) as caught:
        gateway.payment("pi_123")
    assert caught.value.unavailable is True
