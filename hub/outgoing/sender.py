"""One HTTP attempt at a delivery. Per the Standard Webhooks guidance: a 2xx is success,
anything else (a redirect too: never followed) a failure; a slow receiver times out."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import httpx

from hub.ledger.webhook_deliveries import Attempt

RESPONSE_KEPT = 500  # characters of the receiver's answer kept with the attempt


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    retry_after: str | None


Post = Callable[[str, Mapping[str, str], bytes, float], Answer]


def http_post(url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> Answer:
    response = httpx.post(url, content=body, headers=dict(headers), timeout=timeout, follow_redirects=False)
    return Answer(response.status_code, response.text[:RESPONSE_KEPT], response.headers.get("retry-after"))


def attempt(
    post: Post, url: str, headers: Mapping[str, str], body: bytes, timeout: float, at: datetime
) -> tuple[Attempt, str | None]:
    """Try once; (the attempt as recorded, the receiver's Retry-After)."""
    started = time.perf_counter()
    try:
        answer = post(url, headers, body, timeout)
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        took = int((time.perf_counter() - started) * 1000)
        return Attempt(at, None, f"{type(exc).__name__}: {exc}"[:500], None, took), None
    took = int((time.perf_counter() - started) * 1000)
    error = None if 200 <= answer.status < 300 else f"HTTP {answer.status}"
    return Attempt(at, answer.status, error, answer.text, took), answer.retry_after
