"""Every error PayPal documents for a capture refund, and every exception the adapter meets, mapped.

The (status, name, issue) rows come from the Payments v2 OpenAPI extract's
``POST /v2/payments/captures/{capture_id}/refund`` responses (tests/fixtures/specs), so an issue
added to the spec is checked too. Only two issues say "a refund for this may already exist":
409 PREVIOUS_REQUEST_IN_PROGRESS and 422 DUPLICATE_INVOICE_ID (the hub id is the invoice id).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from apimatic_core.http.response.http_response import HttpResponse
from paypalserversdk.exceptions.api_exception import ApiException
from urllib3.exceptions import NewConnectionError

from gateways.paypal import money
from gateways.paypal import transformers as tf
from gateways.paypal.auth import TokenError, TokenRefused
from gateways.paypal.client import PayPalHttpError
from gateways.paypal.errors import failure_of, lookup_outcome, never_connected, not_found, read_error, refund_outcome
from hub.contracts import Outcome
from hub.errors import PlatformError, PlatformUnavailable
from hub.models.money import CurrencyError

SPEC = Path(__file__).resolve().parents[2] / "fixtures" / "specs" / "paypal_v2_captures_refund.json"
MAYBE_REFUNDED = {"PREVIOUS_REQUEST_IN_PROGRESS", "DUPLICATE_INVOICE_ID"}


def _documented_errors() -> list[tuple[int, str, str]]:
    """(status, name, issue) of every error the refund operation documents."""
    spec = json.loads(SPEC.read_text())
    schemas = spec["components"]["schemas"]
    responses = spec["paths"]["/v2/payments/captures/{capture_id}/refund"]["post"]["responses"]
    rows: list[tuple[int, str, str]] = []
    for status, response in responses.items():
        if not status.isdigit() or int(status) < 400 or "content" not in response:
            continue
        parts = response["content"]["application/json"]["schema"]["allOf"]
        envelope, details = (schemas[part["$ref"].rsplit("/", 1)[-1]] for part in parts)
        [name] = envelope["properties"]["name"]["enum"]
        for item in details["properties"]["details"]["items"]["anyOf"]:
            rows.extend((int(status), name, issue) for issue in item["properties"]["issue"]["enum"])
    return rows


DOCUMENTED = _documented_errors()


def _answer(status: int, body: Any) -> PayPalHttpError:
    return PayPalHttpError(tf.failure_from_body(status, body))


def _body(name: str, issue: str | None = None, description: str = "what went wrong") -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "message": "PayPal's message", "debug_id": "dbg1"}
    if issue:
        body["details"] = [{"issue": issue, "description": description}]
    return body


def _sdk_error(status: int, body: Any) -> ApiException:
    text = body if isinstance(body, str) else json.dumps(body)
    return ApiException("HTTP error", HttpResponse(status, "reason", {}, text, None))


def test_the_extract_documents_the_issues_the_outcome_table_names():
    issues = {issue for _, _, issue in DOCUMENTED}
    assert issues >= MAYBE_REFUNDED and {"CAPTURE_FULLY_REFUNDED", "REFUND_AMOUNT_EXCEEDED"} <= issues
    assert {status for status, _, _ in DOCUMENTED} == {400, 401, 403, 404, 409, 422}


@pytest.mark.parametrize(("status", "name", "issue"), DOCUMENTED)
def test_every_documented_refund_error(status, name, issue):
    expected = Outcome.UNKNOWN if issue in MAYBE_REFUNDED else Outcome.FAILED
    for exc in (_answer(status, _body(name, issue)), _sdk_error(status, _body(name, issue))):
        result = refund_outcome(exc)
        assert (result.outcome, result.code) == (expected, issue)
        assert result.message == "what went wrong (debug_id dbg1)"
        assert not_found(exc) is (status == 404)


@pytest.mark.parametrize(
    ("status", "name", "outcome"),
    [
        (408, None, Outcome.UNKNOWN),
        (429, "RATE_LIMIT_REACHED", Outcome.UNAVAILABLE),
        (500, "INTERNAL_SERVER_ERROR", Outcome.UNKNOWN),
        (503, "SERVICE_UNAVAILABLE", Outcome.UNKNOWN),
    ],
)
def test_statuses_without_an_issue(status, name, outcome):
    result = refund_outcome(_sdk_error(status, {"name": name} if name else ""))
    assert (result.outcome, result.code) == (outcome, name or f"HTTP_{status}")


def test_failure_of_reads_both_error_forms_and_nothing_else():
    failure = tf.ApiFailure(status=422, name="UNPROCESSABLE_ENTITY", issue="REFUND_NOT_ALLOWED")
    assert failure_of(PayPalHttpError(failure)) is failure
    assert failure_of(_sdk_error(404, _body("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID"))) == tf.ApiFailure(
        status=404,
        name="RESOURCE_NOT_FOUND",
        issue="INVALID_RESOURCE_ID",
        description="what went wrong",
        debug_id="dbg1",
    )
    assert failure_of(ValueError("no answer")) is None
    assert not_found(_answer(404, {"name": "RESOURCE_NOT_FOUND"})) is True
    assert not_found(_answer(404, {"name": "UNPROCESSABLE_ENTITY"})) is False
    assert not_found(requests.ReadTimeout("slow")) is False


def test_refusals_before_sending_keep_their_code_and_words():
    declined = refund_outcome(money.AmountNotAccepted("DECIMALS_NOT_SUPPORTED", "JPY takes no decimals"))
    assert (declined.outcome, declined.code, declined.message) == (
        Outcome.FAILED,
        "DECIMALS_NOT_SUPPORTED",
        "JPY takes no decimals",
    )
    currency = refund_outcome(CurrencyError("unknown ISO 4217 currency 'XYZ'"))
    assert (currency.outcome, currency.message) == (Outcome.FAILED, "unknown ISO 4217 currency 'XYZ'")


def test_a_fresh_token_refused_is_unavailable_never_a_decline():
    exc = TokenRefused(tf.ApiFailure(status=401, name="AUTHENTICATION_FAILURE", description="token revoked"))
    result = refund_outcome(exc)
    assert (result.outcome, result.code) == (Outcome.UNAVAILABLE, "AUTHENTICATION_FAILURE")
    assert result.message == "PayPal refused a freshly issued access token: token revoked"


@pytest.mark.parametrize(("status", "declined"), [(400, True), (401, True), (403, True), (404, False), (500, False)])
def test_token_endpoint_answers(status, declined):
    result = refund_outcome(TokenError("no token", tf.ApiFailure(status=status, name="invalid_client")))
    if declined:  # bad credentials: retrying will not help
        assert (result.outcome, result.code) == (Outcome.FAILED, "AUTHENTICATION_FAILURE")
        assert result.message == "PayPal credentials refused: no token"
    else:
        assert (result.outcome, result.code, result.message) == (Outcome.UNAVAILABLE, "TOKEN_UNAVAILABLE", "no token")


def test_transport_and_unexpected_errors_keep_the_words():
    result = refund_outcome(requests.ReadTimeout("read timed out"))
    assert (result.outcome, result.message) == (Outcome.UNKNOWN, "read timed out")
    surprise = refund_outcome(KeyError("x"))
    assert (surprise.outcome, surprise.code, surprise.message) == (Outcome.UNKNOWN, "UNEXPECTED_ERROR", "KeyError: 'x'")


def test_never_connected_follows_the_chain_and_survives_cycles():
    refused = requests.ConnectionError("refused")
    refused.__context__ = NewConnectionError(None, "Failed to establish a new connection")  # type: ignore[arg-type]
    assert never_connected(refused) is True
    first, second = requests.ConnectionError("a"), ConnectionResetError(104, "reset")
    first.__cause__, second.__context__ = second, first  # a cycle: must end, and say False
    assert never_connected(first) is False
    assert never_connected(requests.ReadTimeout("read")) is False


def test_lookups_never_decide_and_reads_say_whether_to_ask_again():
    assert lookup_outcome(_answer(404, _body("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID"))) is None
    failed = lookup_outcome(_answer(422, _body("UNPROCESSABLE_ENTITY", "REFUND_NOT_ALLOWED", "nope")))
    assert failed is not None
    assert (failed.outcome, failed.code, failed.message) == (
        Outcome.UNKNOWN,
        "REFUND_NOT_ALLOWED",
        "lookup failed: nope (debug_id dbg1)",
    )
    declined = read_error(_answer(403, _body("NOT_AUTHORIZED", "PERMISSION_DENIED", "no")), "payment C1")
    assert type(declined) is PlatformError
    assert str(declined) == "PayPal payment C1: PERMISSION_DENIED: no (debug_id dbg1)"
    assert isinstance(read_error(_answer(503, {"name": "SERVICE_UNAVAILABLE"}), "payment C1"), PlatformUnavailable)
    assert isinstance(read_error(requests.ConnectTimeout("connect"), "payment C1"), PlatformUnavailable)
