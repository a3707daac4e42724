"""What gateways and platforms list for reconciliation and backfill: their refunds since a time,
a page at a time, and the patience their rate limits ask for.

A listing is additive to the contracts: an adapter that cannot list answers None and the hub
reconciles with what the other side says.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from hub.contracts.results import Outcome

T = TypeVar("T")


@dataclass(frozen=True)
class ListedRefund:
    """One refund as its gateway or platform lists it (amounts in hub minor units).

    A gateway fills ``id`` (its refund id), the payment and, from the metadata the hub sent,
    ``hub_refund_id``. A platform fills ``id`` with its record's id, ``source_ref`` with what its
    webhooks name the record by (so the ledger matches it), ``order_id``, and ``gateway_refund_id``
    with the gateway transaction the record names, when it names one, and ``hints`` with what its
    ``fetch`` needs to re-read the record (as a webhook's notice would carry them)."""

    id: str
    amount: int
    currency: str
    outcome: Outcome
    created_at: datetime
    payment_reference: str | None = None
    hub_refund_id: str | None = None
    gateway_refund_id: str | None = None
    order_id: str | None = None
    source_ref: str | None = None
    raw_status: str | None = None
    hints: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundListing:
    """One page of a listing; ``cursor`` asks for the next one (None: this was the last)."""

    refunds: tuple[ListedRefund, ...]
    cursor: str | None = None


class RateLimited(Exception):
    """The vendor asked to slow down (HTTP 429); ``wait``: seconds it said (Retry-After), else a guess."""

    def __init__(self, wait: float = 1.0) -> None:
        super().__init__(f"rate limited; retry in {wait:.1f}s")
        self.wait = wait


class ListingFailed(Exception):
    """A listing could not be read (rate limit outlasting the retries, an error answer)."""


def patiently(call: Callable[[], T], *, attempts: int = 5, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``call``, waiting out ``RateLimited`` (at most 30 s a time) up to ``attempts`` tries.

    Listing is never urgent: waiting keeps the hub within the vendor's limits while it reads a
    long history, and a listing that still cannot be read fails the run, not the hub."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except RateLimited as limited:
            if attempt == attempts:
                raise ListingFailed(f"still rate limited after {attempts} tries") from limited
            sleep(min(max(limited.wait, 0.0), 30.0))
    raise AssertionError("unreachable")
