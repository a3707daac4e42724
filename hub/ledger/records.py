"""Typed, frozen records the ledger hands out instead of database rows.

Every stored time is UTC; SQLite hands datetimes back naive, so records carry them as aware
values and no caller has to remember which database it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def from_row(cls: type[T], row: Any) -> T:
    """Build record ``cls`` from a row that has (at least) its fields as columns."""
    mapping = row._mapping
    values = {f.name: mapping[f.name] for f in fields(cls)}  # type: ignore[arg-type]
    for name, value in values.items():
        if isinstance(value, datetime):
            values[name] = as_utc(value)
    return cls(**values)


@dataclass(frozen=True, slots=True)
class Refund:
    """One logical refund: what was asked, what was decided, where the money stands."""

    id: str
    connector: str
    store_id: str
    source_ref: str
    order_id: str
    kind: str  # requested | recorded
    state: str
    money_moved: bool
    amount: int
    approved_amount: int | None
    currency: str
    route: str | None
    payment_id: int | None
    idempotency_key: str
    gateway_refund_id: str | None
    decision: dict[str, Any] | None
    policy_version: str | None
    request: dict[str, Any]
    customer_id: str | None
    customer_email: str | None
    payment_fingerprint: str | None
    delivery_id: str | None
    lease_until: datetime | None
    attempts: int
    last_error: str | None
    writeback_ref: str | None
    writeback_lease_until: datetime | None
    needs_person: bool
    assigned_to: str | None
    created_at: datetime
    updated_at: datetime
    executed_at: datetime | None
    parent_id: str | None = None  # a part of a refund paid back across several tenders


@dataclass(frozen=True, slots=True)
class Payment:
    """A captured payment and what the hub knows of it (captured amount, dispute flag)."""

    id: int
    store_id: str
    route: str
    reference: str
    currency: str
    captured: int
    disputed: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    """A stored webhook delivery, raw as it arrived."""

    id: str
    connector: str
    store_id: str
    topic: str
    dedupe_key: str
    headers: dict[str, Any]
    body: bytes
    received_at: datetime
    status: str
    error: str | None
    processed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    """A delivery without its body or headers, for lists."""

    id: str
    connector: str
    store_id: str
    topic: str
    status: str
    error: str | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    refund_id: str | None
    delivery_id: str | None
    actor: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job a worker holds under a lease."""

    id: int
    kind: str
    subject_id: str
    attempts: int
