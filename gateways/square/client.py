"""The per-account ``squareup`` client: token, environment and timeout always explicit.

The SDK reads ``SQUARE_TOKEN`` at import time, defaults to PRODUCTION and waits 60 s; none of
that applies here. ``base_url`` (a simulator or proxy) wins over ``environment``.
"""

from __future__ import annotations

from square import Square
from square.core.request_options import RequestOptions

from gateways.square.settings import SquareSettings


def build_client(settings: SquareSettings) -> Square:
    return Square(
        token=settings.access_token,
        environment=settings.environment,
        base_url=settings.base_url,
        timeout=settings.timeout,
    )


def request_options(settings: SquareSettings) -> RequestOptions:
    """Per call: the SDK's own retries (same body, so the same idempotency key) and timeout."""
    return {"max_retries": settings.max_retries, "timeout_in_seconds": settings.timeout}  # type: ignore[typeddict-item]
