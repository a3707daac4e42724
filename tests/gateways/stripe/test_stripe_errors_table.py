"""Every Stripe error answer, as the SDK turns it into an exception, mapped to the hub's outcome.

The exceptions are built by the SDK's own v1 mapping (``_APIRequestor.specific_v1_api_error``)
from the HTTP status and the ``{"error": {type, code, message}}`` body Stripe documents
(https://docs.stripe.com/api/errors): 400/404 invalid_request_error or idempotency_error, 401,
402 card_error, 403, 429 (or 400 ``rate_limit``), 409 and 5xx api_error. Only CardError and
InvalidRequestError carry ``code`` themselves; for the others the code is in the body.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import stripe
from stripe._api_requestor import _APIRequestor

from gateways.stripe.errors import StripeLookupFailed, classify, failure_result, lookup_failure, vendor_code
from hub.contracts import Outcome

REQUEST_ID = "req_4Ab"


def answer(status: int, kind: str = "api_error", code: str | None = None, message: str = "Stripe says no") -> Any:
    """The exception the SDK raises for this HTTP answer from Stripe."""
    error: dict[str, Any] = {"type": kind, "message": message}
    if code is not None:
        error["code"] = code
    body = {"error": error}
    return _APIRequestor().specific_v1_api_error(json.dumps(body), status, body, {"request-id": REQUEST_ID}, error)


def refused_connection() -> stripe.APIConnectionError:
    exc = stripe.APIConnectionError("Could not connect to Stripe")
    exc.__cause__ = requests.exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    return exc


@pytest.mark.parametrize(
    ("status", "kind", "code", "outcome", "expected_code"),
    [
        # declines and refusals no retry changes: the vendor's code when it sends one, else ours
        (400, "invalid_request_error", "charge_already_refunded", Outcome.FAILED, "charge_already_refunded"),
        (400, "invalid_request_error", "amount_too_large", Outcome.FAILED, "amount_too_large"),
        (404, "invalid_request_error", "resource_missing", Outcome.FAILED, "resource_missing"),
        (400, "invalid_request_error", None, Outcome.FAILED, "invalid_request"),
        (402, "card_error", "expired_card", Outcome.FAILED, "expired_card"),
        (402, "card_error", None, Outcome.FAILED, "card_declined"),
        (401, "invalid_request_error", "api_key_expired", Outcome.FAILED, "api_key_expired"),
        (401, "invalid_request_error", None, Outcome.FAILED, "authentication_failed"),
        (403, "invalid_request_error", "secret_key_required", Outcome.FAILED, "secret_key_required"),
        (403, "invalid_request_error", None, Outcome.FAILED, "permission_denied"),
        # rejected before running: retry later with the same key
        (429, "invalid_request_error", "rate_limit", Outcome.UNAVAILABLE, "rate_limit"),
        (429, "invalid_request_error", None, Outcome.UNAVAILABLE, "rate_limit"),
        (429, "invalid_request_error", "lock_timeout", Outcome.UNAVAILABLE, "lock_timeout"),
        (400, "invalid_request_error", "rate_limit", Outcome.UNAVAILABLE, "rate_limit"),  # the older 400 form
        # maybe executed
        (400, "idempotency_error", None, Outcome.UNKNOWN, "idempotency_error"),
        (409, "invalid_request_error", "idempotency_key_in_use", Outcome.UNKNOWN, "idempotency_key_in_use"),
        (409, "api_error", None, Outcome.UNKNOWN, "api_error"),
        (500, "api_error", None, Outcome.UNKNOWN, "api_error"),
        (502, "api_error", None, Outcome.UNKNOWN, "api_error"),
        (503, "api_error", None, Outcome.UNKNOWN, "api_error"),
    ],
)
def test_every_stripe_answer_maps_to_one_outcome_and_code(status, kind, code, outcome, expected_code):
    assert classify(answer(status, kind, code)) == (outcome, expected_code)
    result = failure_result(answer(status, kind, code))
    assert (result.outcome, result.code) == (outcome, expected_code)


def test_transport_and_foreign_errors():
    assert classify(refused_connection()) == (Outcome.UNAVAILABLE, "connection_failed")
    assert classify(stripe.APIConnectionError("read timed out")) == (Outcome.UNKNOWN, "network_error")
    assert classify(ValueError("surprise")) == (Outcome.UNKNOWN, "unexpected_error")


def test_vendor_code_reads_the_exception_then_the_body():
    assert vendor_code(answer(403, code="secret_key_required")) == "secret_key_required"  # body only
    assert vendor_code(stripe.CardError("no", None, "card_declined", json_body={"error": {"code": "x"}})) == (
        "card_declined"
    )
    assert vendor_code(stripe.APIError("no", json_body={"message": "no error envelope"})) is None
    assert vendor_code(stripe.APIError("no", json_body={"error": "not an object"})) is None
    assert vendor_code(stripe.APIError("no", json_body=["a list"])) is None
    assert vendor_code(stripe.APIError("no")) is None


def test_messages_name_the_status_and_stripes_own_text():
    # user_message is Stripe's text without the "Request req_…:" prefix str() adds
    assert failure_result(answer(500)).message == "HTTP 500: Stripe says no"
    assert failure_result(stripe.APIError("no status")).message == "no status"
    assert failure_result(ValueError("boom")).message == "ValueError: boom"
    assert failure_result(stripe.APIError(None, headers={"request-id": REQUEST_ID})).message == (
        f"Request {REQUEST_ID}: <empty message>"
    )


def test_permanent_declines_say_so_and_maybe_executed_errors_do_not():
    assert failure_result(answer(402, "card_error", "card_declined")).message.startswith("permanent: HTTP 402")
    assert failure_result(answer(401)).message.startswith("permanent: ")
    # invalid requests are the hub's own doing: no "permanent" label
    assert (
        failure_result(answer(400, "invalid_request_error", "amount_too_large")).message == "HTTP 400: Stripe says no"
    )
    assert not failure_result(answer(500)).message.startswith("permanent")
    assert not failure_result(answer(429)).message.startswith("permanent")


def test_a_reused_key_is_flagged_as_a_hub_bug_and_stays_unknown():
    result = failure_result(answer(400, "idempotency_error"))
    assert result.outcome is Outcome.UNKNOWN
    assert result.message == (
        "idempotency key reused with different parameters (hub bug; an earlier request may have run): "
        "HTTP 400: Stripe says no"
    )


def test_unavailable_after_an_earlier_attempt_that_may_have_run_is_unknown():
    assert failure_result(answer(429)).outcome is Outcome.UNAVAILABLE  # the default: no earlier attempt
    late = failure_result(answer(429), earlier_attempt_may_have_executed=True)
    assert late.outcome is Outcome.UNKNOWN
    assert late.message == "HTTP 429: Stripe says no (after an earlier attempt that may have run)"
    # outcomes that are not "surely unsent" keep their meaning
    assert failure_result(answer(500), earlier_attempt_may_have_executed=True).message == "HTTP 500: Stripe says no"
    declined = failure_result(answer(402, "card_error", "card_declined"), earlier_attempt_may_have_executed=True)
    assert declined.outcome is Outcome.FAILED


def test_lookup_failures_say_whether_asking_again_may_help():
    limited = lookup_failure(answer(429))
    assert isinstance(limited, StripeLookupFailed)
    assert (limited.code, limited.unavailable, limited.message) == ("rate_limit", True, "HTTP 429: Stripe says no")
    assert str(limited) == "HTTP 429: Stripe says no"
    assert lookup_failure(refused_connection()).unavailable is True
    assert lookup_failure(answer(500)).unavailable is False
    assert lookup_failure(answer(404, "invalid_request_error", "resource_missing")).unavailable is False
    plain = StripeLookupFailed("unsupported_reference", "not a Stripe id")
    assert (plain.unavailable, str(plain)) == (False, "not a Stripe id")
