"""A per-account ``StripeClient`` whose HTTP client remembers what each attempt of a call did.

The SDK retries 409, 5xx and network errors itself (same idempotency key, which Stripe
replays safely), so the exception that finally surfaces may hide an earlier attempt that
reached Stripe. ``TracingRequestsClient`` records, per thread, whether any attempt may have
been executed, so "surely not sent" is only claimed when no attempt could have moved money.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import requests
import stripe
import urllib3.exceptions

from gateways.stripe.settings import StripeSettings

# Failures that happen before a single byte of the request leaves: no TCP connection was made.
_NOT_CONNECTED = (
    urllib3.exceptions.NewConnectionError,  # refused, unreachable, DNS (NameResolutionError)
    urllib3.exceptions.ConnectTimeoutError,
    requests.exceptions.ConnectTimeout,
    ConnectionRefusedError,
)


def surely_unsent(exc: BaseException) -> bool:
    """True when a transport error proves the request never reached the server."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _NOT_CONNECTED):
            return True
        # requests wraps urllib3's MaxRetryError, whose ``reason`` is the real failure.
        reason = getattr(current, "reason", None)
        nested = [current.__cause__, current.__context__, reason, *current.args]
        pending.extend(e for e in nested if isinstance(e, BaseException))
    return False


class TracingRequestsClient(stripe.RequestsClient):
    """``RequestsClient`` that notes, for the current thread, whether an attempt may have executed."""

    def __init__(self, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._trace = threading.local()

    def begin(self) -> None:
        """Start a new logical call (one SDK method, possibly several HTTP attempts)."""
        self._trace.attempts = []

    def earlier_attempt_may_have_executed(self) -> bool:
        """Did any attempt before the last one possibly reach Stripe and run?"""
        attempts: list[bool] = getattr(self._trace, "attempts", [])
        return any(attempts[:-1])

    def _note(self, may_have_executed: bool) -> None:
        if not hasattr(self._trace, "attempts"):
            self._trace.attempts = []
        self._trace.attempts.append(may_have_executed)

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> Any:
        try:
            response = super().request(method, url, headers, post_data)
        except stripe.APIConnectionError as exc:
            self._note(not surely_unsent(exc))
            raise
        # Stripe answers 429 before running the request (docs.stripe.com/rate-limits).
        self._note(response[1] != 429)
        return response


def build_client(settings: StripeSettings) -> tuple[stripe.StripeClient, TracingRequestsClient]:
    """A ``StripeClient`` for one account's settings (no process-global configuration)."""
    http = TracingRequestsClient(timeout=settings.timeout)
    options: dict[str, Any] = {}
    if settings.base_url:
        options["base_addresses"] = {"api": settings.base_url}
    client = stripe.StripeClient(
        settings.api_key,
        max_network_retries=settings.max_network_retries,
        http_client=http,
        **options,
    )
    return client, http
