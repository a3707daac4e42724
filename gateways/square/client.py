"""The per-account ``squareup`` client: token, environment and timeout always explicit.

The SDK reads ``SQUARE_TOKEN`` at import time, defaults to PRODUCTION and waits 60 s; none of
that applies here. ``base_url`` (a simulator or proxy) wins over ``environment``.

The SDK retries 408, 409, 429 and 5xx answers itself (``core/http_client.py``: same body, so
the same ``idempotency_key``), so the error that finally surfaces may hide an earlier attempt
that reached Square and ran: a 429 or a refused connection on the *last* attempt proves nothing
about a 500 before it. ``AttemptTrace`` hooks into the SDK's ``httpx.Client`` and notes, per
thread, what each attempt of the current call may have done (as the Stripe adapter's
``TracingRequestsClient`` does).
"""

from __future__ import annotations

import threading

import httpx
from square import Square
from square.core.request_options import RequestOptions

from gateways.square.settings import SquareSettings

# Failures that happen before a single byte of the request goes out.
NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.InvalidURL,
)


def refused_before_acting(status: int) -> bool:
    """A 4xx Square answers without acting; 408 and 409 are the exceptions (the request may run)."""
    return 400 <= status < 500 and status not in (408, 409)


class AttemptTrace:
    """httpx event hooks noting, per thread, what each HTTP attempt of the current call may have done.

    One entry per request the SDK sends: None until its answer arrives (an attempt that raised
    stays None, and counts as "may have executed"), then whether the answer leaves that open.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def begin(self) -> None:
        """Start a new logical call (one SDK method, possibly several HTTP attempts)."""
        self._local.attempts = []

    def _attempts(self) -> list[bool | None]:
        if not hasattr(self._local, "attempts"):
            self._local.attempts = []
        attempts: list[bool | None] = self._local.attempts
        return attempts

    def on_request(self, request: httpx.Request) -> None:
        self._attempts().append(None)

    def on_response(self, response: httpx.Response) -> None:
        attempts = self._attempts()
        if attempts:
            attempts[-1] = not refused_before_acting(response.status_code)

    def earlier_attempt_may_have_executed(self) -> bool:
        """Did any attempt before the last one possibly reach Square and run?"""
        return any(seen is not False for seen in self._attempts()[:-1])


def build_client(settings: SquareSettings) -> tuple[Square, AttemptTrace]:
    trace = AttemptTrace()
    # What the SDK would build itself (``follow_redirects=True``; its own transport, so proxies
    # from the environment still apply), plus the hooks.
    http = httpx.Client(
        timeout=settings.timeout,
        follow_redirects=True,
        event_hooks={"request": [trace.on_request], "response": [trace.on_response]},
    )
    client = Square(
        token=settings.access_token,
        environment=settings.environment,
        base_url=settings.base_url,
        timeout=settings.timeout,
        httpx_client=http,
    )
    return client, trace


def request_options(settings: SquareSettings) -> RequestOptions:
    """Per call: the SDK's own retries (same body, so the same idempotency key) and timeout."""
    return {"max_retries": settings.max_retries, "timeout_in_seconds": settings.timeout}  # type: ignore[typeddict-item]
