"""Plain data passed across the plugin boundary: what the hub asks, what plugins answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from hub.models import Line


class Outcome(str, Enum):
    """Where a money movement stands, as far as the hub can know (invariant 3, docs/architecture.md)."""

    SUCCEEDED = "succeeded"
    PENDING = "pending"
    FAILED = "failed"  # declined, permanent: no money moved
    UNKNOWN = "unknown"  # maybe sent: resolve by asking, never by a new key
    UNAVAILABLE = "unavailable"  # surely not sent: safe to retry with the same key


@dataclass(frozen=True)
class Execution:
    """One logical refund to carry out. ``idempotency_key`` is stored before the first call."""

    hub_refund_id: str
    idempotency_key: str
    payment_reference: str
    amount: int
    currency: str
    reason: str = "requested_by_customer"
    order_id: str = ""
    note: str = ""
    payment_extra: Mapping[str, str] = field(default_factory=dict)
    lines: tuple[Line, ...] = ()
    shipping: int = 0
    source_ref: str = ""
    full_refund: bool = False
    # what goes back for each of ``lines`` (line id -> minor units, tax included) as the policy
    # decided it; a line not named goes back in full
    line_amounts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    outcome: Outcome
    gateway_refund_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    code: str | None = None
    message: str | None = None
    raw_status: str | None = None


@dataclass(frozen=True)
class RefundLookup:
    """What the janitor knows when it asks a gateway how an earlier attempt ended."""

    hub_refund_id: str
    idempotency_key: str
    payment_reference: str
    amount: int
    currency: str
    gateway_refund_id: str | None = None
    payment_extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentState:
    """A payment as the gateway sees it: the refundable balance is ``captured - refunded``."""

    reference: str
    currency: str
    captured: int
    refunded: int
    disputed: bool = False
    refunds: tuple[RefundResult, ...] = ()


@dataclass(frozen=True)
class GatewayEvent:
    """A refund status event from a gateway webhook, matched to the ledger by id or metadata."""

    gateway_refund_id: str
    outcome: Outcome
    payment_reference: str | None = None
    hub_refund_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    event_id: str | None = None


class DisputeState(str, Enum):
    """Where a dispute (a chargeback, or the inquiry before one) stands, in the hub's words."""

    OPEN = "open"  # the bank or the buyer is still deciding: refunding now could pay twice
    WON = "won"  # closed for the merchant (won, inquiry closed, prevented): the money stays
    LOST = "lost"  # closed for the buyer (lost, accepted): the bank already gave the money back


@dataclass(frozen=True)
class DisputeEvent:
    """A dispute opened, changed or closed on a payment, from a gateway webhook.

    ``holds`` says whether refunds on the payment must wait: while the dispute is open, and
    after it is lost (the chargeback already returned the money; a refund would pay twice).
    ``at``: when the gateway says the dispute reached this state, so a late older event never
    undoes a newer one."""

    dispute_id: str
    payment_reference: str
    state: DisputeState
    raw_status: str
    amount: int | None = None
    currency: str | None = None
    event_id: str | None = None
    at: datetime | None = None

    @property
    def holds(self) -> bool:
        return self.state is not DisputeState.WON


@dataclass(frozen=True)
class WriteBack:
    """The outcome to record on the platform without moving money again."""

    hub_refund_id: str
    order_id: str
    source_ref: str
    amount: int
    currency: str
    outcome: Outcome
    route: str
    gateway: str | None = None
    gateway_refund_id: str | None = None
    lines: tuple[Line, ...] = ()  # only the lines refunded: a line the policy excluded is not among them
    shipping: int = 0
    note: str = ""
    line_amounts: Mapping[str, int] = field(default_factory=dict)  # as ``Execution.line_amounts``


@dataclass(frozen=True)
class DecisionNotice:
    """A step the customer should see on the platform (a declined return, an order note):
    ``explanation`` is the whole text, in the store's words and locale."""

    hub_refund_id: str
    order_id: str
    source_ref: str
    decision: str
    explanation: str
    # the step of the refund this tells of (received, in_review, approved, denied, offered,
    # completed, credited; "" from callers that predate steps) and the money it names, if any
    step: str = ""
    amount: int | None = None
    currency: str | None = None


@dataclass(frozen=True)
class RecordResult:
    reference: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
