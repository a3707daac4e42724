"""When an endpoint that failed is tried again: the Standard Webhooks example schedule (5 s,
5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, then daily), with up to 10 % jitter so
endpoints that failed together do not all come back at once, and a receiver's
``Retry-After`` honoured when it asks for longer."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


def backoff(failures: int, retry_after: float | None = None, jitter: Callable[[], float] = random.random) -> timedelta:
    """The wait after the ``failures``-th failure in a row (1: the first)."""
    base = SCHEDULE[min(max(failures, 1), len(SCHEDULE)) - 1]
    wait = base * (1 + 0.1 * jitter())
    return timedelta(seconds=max(wait, retry_after or 0.0))


def retry_after(header: str | None) -> float | None:
    """Seconds from a ``Retry-After`` of delta-seconds (an HTTP date is ignored: the schedule holds)."""
    if header and header.strip().isdigit():
        return min(float(header.strip()), 86400.0)
    return None
