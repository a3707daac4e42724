"""SDK and httpx exceptions mapped to outcomes at the adapter boundary."""

from __future__ import annotations

import httpx
import pytest
from square.core.api_error import ApiError

from gateways.square.errors import exception_result, lookup_failure
from hub.contracts import Outcome


def api_error(status: int | None, code: str | None = None) -> ApiError:
    body = {"errors": [{"category": "API_ERROR", "code": code, "detail": "d"}]} if code else None
    return ApiError(status_code=status, body=body)


@pytest.mark.parametrize(
    ("error", "outcome", "code"),
    [
        (api_error(400, "REFUND_AMOUNT_INVALID"), Outcome.FAILED, "REFUND_AMOUNT_INVALID"),
        (api_error(400, "REFUND_ALREADY_PENDING"), Outcome.FAILED, "REFUND_ALREADY_PENDING"),
        (api_error(400, "IDEMPOTENCY_KEY_REUSED"), Outcome.UNKNOWN, "IDEMPOTENCY_KEY_REUSED"),
        (api_error(401, "UNAUTHORIZED"), Outcome.FAILED, "UNAUTHORIZED"),
        (api_error(403, "INSUFFICIENT_PERMISSIONS_FOR_REFUND"), Outcome.FAILED, "INSUFFICIENT_PERMISSIONS_FOR_REFUND"),
        (api_error(429, "RATE_LIMITED"), Outcome.UNAVAILABLE, "RATE_LIMITED"),
        (api_error(409, "CONFLICT"), Outcome.UNKNOWN, "CONFLICT"),
        (api_error(503, "SERVICE_UNAVAILABLE"), Outcome.UNKNOWN, "SERVICE_UNAVAILABLE"),
        (api_error(None), Outcome.UNKNOWN, "Unknown"),
        (httpx.ConnectError("refused"), Outcome.UNAVAILABLE, "ConnectError"),
        (httpx.PoolTimeout("pool"), Outcome.UNAVAILABLE, "PoolTimeout"),
        (httpx.ReadTimeout("slow"), Outcome.UNKNOWN, "ReadTimeout"),
        (RuntimeError("surprise"), Outcome.UNKNOWN, "RuntimeError"),
    ],
)
def test_exception_outcomes(error, outcome, code):
    result = exception_result(error)
    assert (result.outcome, result.code) == (outcome, code)


def test_lookup_failures_never_claim_nothing_was_sent():
    assert lookup_failure(httpx.ConnectError("refused")).outcome is Outcome.UNKNOWN
    assert lookup_failure(api_error(429, "RATE_LIMITED")).outcome is Outcome.UNKNOWN
