"""Square SDK and httpx exceptions mapped to refund outcomes at the adapter boundary.

squareup raises one ``ApiError`` for every non-2xx answer (``status_code`` plus Square's
``errors[]``) and lets httpx's own exceptions through untouched:

    ApiError 429 (RATE_LIMITED)            unavailable  Square refused it before acting
    ApiError 408 / 409 / 5xx / no status   unknown      the refund may exist
    ApiError other 4xx                     failed       declined or permanent (code kept)
    httpx.ConnectError / ConnectTimeout    unavailable  no connection, nothing sent
    httpx.PoolTimeout / UnsupportedProtocol / InvalidURL   unavailable  never left the process
    any other httpx.TransportError         unknown      read timeout, reset, protocol error
    anything else                          unknown      we cannot prove nothing happened

The SDK retries 408/409/429/5xx itself, so a call is several attempts: when an earlier one may
have run (a 5xx, 408 or 409 before the last), a final ``unavailable`` or ``failed`` proves
nothing about it and becomes ``unknown`` (``client.AttemptTrace`` says which).
"""

from __future__ import annotations

from typing import Any

from square.core.api_error import ApiError

from gateways.square.client import NOT_SENT
from hub.contracts import Outcome, RefundResult

# 408 and 409 are retried by the SDK too; after its last retry the first attempt may have acted.
_MAYBE_ACTED_STATUSES = frozenset({408, 409})


def api_error_code(error: ApiError) -> tuple[str | None, str | None]:
    """(code, detail) of the first of Square's ``errors`` in an ``ApiError``."""
    for item in error.errors or ():
        return _text(getattr(item, "code", None)), _text(getattr(item, "detail", None))
    return None, None


def api_error_outcome(status: int | None) -> Outcome:
    if status == 429:
        return Outcome.UNAVAILABLE
    if status is None or status >= 500 or status in _MAYBE_ACTED_STATUSES:
        return Outcome.UNKNOWN
    if 400 <= status < 500:
        return Outcome.FAILED
    return Outcome.UNKNOWN  # a non-2xx that is no error status (3xx): we cannot say


def exception_result(exc: BaseException, *, earlier_attempt_may_have_executed: bool = False) -> RefundResult:
    """The outcome of a refund call that raised ``exc`` on its last attempt."""
    result = _last_attempt_result(exc)
    if earlier_attempt_may_have_executed and result.outcome in (Outcome.UNAVAILABLE, Outcome.FAILED):
        # The SDK retried after an attempt that may have run: the last answer says nothing about it.
        return RefundResult(
            outcome=Outcome.UNKNOWN,
            code=result.code,
            message=f"{result.message or result.code} (after an earlier attempt that may have run)",
        )
    return result


def _last_attempt_result(exc: BaseException) -> RefundResult:
    if isinstance(exc, ApiError):
        code, detail = api_error_code(exc)
        # a key reused with other parameters: a refund may already exist under it, so resolve, never release
        outcome = Outcome.UNKNOWN if code == "IDEMPOTENCY_KEY_REUSED" else api_error_outcome(exc.status_code)
        return RefundResult(
            outcome=outcome,
            code=code or f"http_{exc.status_code}",
            message=detail or f"Square answered HTTP {exc.status_code}",
        )
    if isinstance(exc, NOT_SENT):
        return RefundResult(outcome=Outcome.UNAVAILABLE, code=type(exc).__name__, message=str(exc) or None)
    return RefundResult(outcome=Outcome.UNKNOWN, code=type(exc).__name__, message=str(exc) or None)


def lookup_failure(exc: BaseException) -> RefundResult:
    """A failed *lookup* says nothing about the refund: always unknown, never unavailable.

    (``unavailable`` would tell the hub the refund surely was not sent, which a failed read
    cannot know.)
    """
    result = exception_result(exc)
    return RefundResult(outcome=Outcome.UNKNOWN, code=result.code, message=result.message)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
