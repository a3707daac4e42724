"""Square's error answers, as ``squareup`` raises them, mapped to outcomes for every status and code.

Square answers every failure with an HTTP status from 400 to 599 and an ``errors[]`` array of
``{category, code, detail}`` (https://developer.squareup.com/docs/build-basics/handling-errors).
The outcome follows the status — 429 RATE_LIMITED is refused before acting, 408/409 and 5xx may
have acted (the SDK retries them), other 4xx are declines — except IDEMPOTENCY_KEY_REUSED, which
means a refund may already exist under the key whatever the status. The refund codes are the
ones the RefundPayment spec extract's ``ErrorCode`` enum lists.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from square.core.api_error import ApiError

from gateways.square.errors import api_error_code, api_error_outcome, exception_result, lookup_failure
from hub.contracts import Outcome

SPEC = Path(__file__).resolve().parents[2] / "fixtures" / "specs" / "square_refunds.json"
ERROR_CODES = json.loads(SPEC.read_text())["components"]["schemas"]["ErrorCode"]["enum"]
REFUND_CODES = [code for code in ERROR_CODES if "REFUND" in code]

# Square's documented status for its generic codes (the handling-errors page)
GENERIC = [
    (400, "BAD_REQUEST", Outcome.FAILED),
    (401, "UNAUTHORIZED", Outcome.FAILED),
    (401, "ACCESS_TOKEN_EXPIRED", Outcome.FAILED),
    (402, "CARD_DECLINED", Outcome.FAILED),
    (403, "FORBIDDEN", Outcome.FAILED),
    (403, "INSUFFICIENT_SCOPES", Outcome.FAILED),
    (404, "NOT_FOUND", Outcome.FAILED),
    (405, "METHOD_NOT_ALLOWED", Outcome.FAILED),
    (408, "REQUEST_TIMEOUT", Outcome.UNKNOWN),
    (409, "CONFLICT", Outcome.UNKNOWN),
    (410, "GONE", Outcome.FAILED),
    (422, "UNPROCESSABLE_ENTITY", Outcome.FAILED),
    (429, "RATE_LIMITED", Outcome.UNAVAILABLE),
    (500, "INTERNAL_SERVER_ERROR", Outcome.UNKNOWN),
    (501, "NOT_IMPLEMENTED", Outcome.UNKNOWN),
    (502, "BAD_GATEWAY", Outcome.UNKNOWN),
    (503, "SERVICE_UNAVAILABLE", Outcome.UNKNOWN),
    (504, "GATEWAY_TIMEOUT", Outcome.UNKNOWN),
]


def square_answer(status: int | None, code: str | None, detail: str | None = "what Square says") -> ApiError:
    error: dict[str, str] = {"category": "INVALID_REQUEST_ERROR"}
    if code is not None:
        error["code"] = code
    if detail is not None:
        error["detail"] = detail
    return ApiError(status_code=status, body={"errors": [error]})


def test_the_extract_lists_the_codes_the_table_names():
    assert {code for _, code, _ in GENERIC} <= set(ERROR_CODES)
    assert "IDEMPOTENCY_KEY_REUSED" in ERROR_CODES
    assert len(REFUND_CODES) >= 6


@pytest.mark.parametrize(("status", "code", "outcome"), GENERIC)
def test_every_generic_code_at_its_status(status, code, outcome):
    result = exception_result(square_answer(status, code))
    assert (result.outcome, result.code, result.message) == (outcome, code, "what Square says")


@pytest.mark.parametrize("code", REFUND_CODES)
def test_every_refund_code_is_a_decline(code):
    assert exception_result(square_answer(400, code)).outcome is Outcome.FAILED


@pytest.mark.parametrize("status", [400, 409, 422, 500])
def test_a_reused_key_is_unknown_whatever_the_status(status):
    result = exception_result(square_answer(status, "IDEMPOTENCY_KEY_REUSED"))
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "IDEMPOTENCY_KEY_REUSED")


@given(st.integers(min_value=300, max_value=599))
@example(304)
@example(399)
@example(400)
@example(499)
@example(500)
@example(501)
def test_outcome_by_status_alone(status):
    outcome = api_error_outcome(status)
    if status == 429:
        assert outcome is Outcome.UNAVAILABLE
    elif 400 <= status < 500 and status not in (408, 409):
        assert outcome is Outcome.FAILED
    else:  # 3xx, 408, 409, 5xx: Square may have acted or we cannot tell
        assert outcome is Outcome.UNKNOWN
    assert api_error_outcome(None) is Outcome.UNKNOWN


def test_an_answer_without_errors_names_the_status():
    empty = ApiError(status_code=503, body={"errors": []})
    assert api_error_code(empty) == (None, None)
    result = exception_result(empty)
    assert (result.outcome, result.code, result.message) == (Outcome.UNKNOWN, "http_503", "Square answered HTTP 503")
    terse = exception_result(square_answer(400, "REFUND_DECLINED", detail=None))
    assert (terse.code, terse.message) == ("REFUND_DECLINED", "Square answered HTTP 400")


def test_code_and_detail_of_the_first_error():
    two = ApiError(status_code=400, body={"errors": [{"code": "A", "detail": "first"}, {"code": "B", "detail": "x"}]})
    assert api_error_code(two) == ("A", "first")


def test_transport_errors_by_whether_the_request_left():
    for exc in (httpx.ConnectError("refused"), httpx.ConnectTimeout("connect"), httpx.PoolTimeout("pool")):
        result = exception_result(exc)
        assert (result.outcome, result.code, result.message) == (Outcome.UNAVAILABLE, type(exc).__name__, str(exc))
    assert exception_result(httpx.ConnectError("")).message is None
    for exc in (httpx.ReadTimeout("read"), httpx.RemoteProtocolError("reset"), RuntimeError("surprise")):
        result = exception_result(exc)
        assert (result.outcome, result.code, result.message) == (Outcome.UNKNOWN, type(exc).__name__, str(exc))
    assert exception_result(httpx.ReadTimeout("")).message is None


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (square_answer(429, "RATE_LIMITED"), "RATE_LIMITED", "what Square says"),
        (square_answer(400, "REFUND_DECLINED", detail=None), "REFUND_DECLINED", "Square answered HTTP 400"),
        (httpx.ConnectError(""), "ConnectError", "ConnectError"),
    ],
)
def test_after_an_attempt_that_may_have_run_nothing_is_proved(error, code, message):
    result = exception_result(error, earlier_attempt_may_have_executed=True)
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, code)
    assert result.message == f"{message} (after an earlier attempt that may have run)"
    maybe = exception_result(square_answer(500, "INTERNAL_SERVER_ERROR"), earlier_attempt_may_have_executed=True)
    assert (maybe.outcome, maybe.message) == (Outcome.UNKNOWN, "what Square says")


def test_lookups_keep_code_and_words_but_never_decide():
    result = lookup_failure(square_answer(429, "RATE_LIMITED"))
    assert (result.outcome, result.code, result.message) == (Outcome.UNKNOWN, "RATE_LIMITED", "what Square says")
    assert lookup_failure(square_answer(400, "REFUND_DECLINED")).outcome is Outcome.UNKNOWN
