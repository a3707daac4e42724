"""What the JSON API says about a refund, as models: the same classes answer requests and write
the 200 schemas of ``/api/openapi.json``, so the document cannot drift from the answers.

Amounts are minor units of ``currency``. Times carry their zone (UTC, ``+00:00``). The decision is
one object (``decision.action``…), with a person's review beside it, never nested in itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.ledger import states
from hub.ledger.records import AuditEntry, DeliverySummary, Refund, as_utc


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Amounts(Out):
    """What was asked, what was approved to go back, and what has gone back (minor units)."""

    requested: int
    approved: int | None = Field(description="what the policy or a person approved; null until decided")
    refunded: int = Field(description="what has reached the customer's payment: executed, or recorded as moved")


class LineOut(Out):
    line_id: str
    sku: str | None = None
    product_id: str | None = None
    title: str = ""
    quantity: int
    unit_price: int
    tax: int = 0
    kind: str = "physical"


class CustomerOut(Out):
    id: str | None = None
    email: str | None = None


class RuleOut(Out):
    rule: str
    effect: str
    detail: str


class DecisionOut(Out):
    """The policy's decision; null while none was taken (recorded refunds take none)."""

    action: str
    amount: int
    explanation: str
    policy_version: str
    rules: list[RuleOut] = []
    alternative: str | None = None


class ReviewOut(Out):
    """A person's verdict after review."""

    verdict: str
    reason: str = ""
    by: str = ""


class AuditOut(Out):
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class PartOut(Out):
    """One tender's part of a refund paid back more than one way."""

    id: str
    state: str
    tender: str
    route: str | None
    amount: int
    gateway_refund_id: str | None
    needs_person: bool


class RefundOut(Out):
    id: str
    state: str
    kind: str = Field(description="requested (the hub decides and executes) or recorded (made elsewhere)")
    connector: str
    store_id: str
    order_id: str
    source_ref: str
    currency: str
    amounts: Amounts
    money_moved: bool = Field(description="money reached the customer (by the hub or, recorded, elsewhere)")
    reason: str
    reason_text: str
    customer: CustomerOut
    lines: list[LineOut]
    shipping: int
    route: str | None
    gateway_refund_id: str | None
    writeback_ref: str | None
    decision: DecisionOut | None
    review: ReviewOut | None
    needs_person: bool
    disputed: bool = Field(
        default=False, description="the payment is under a dispute that holds refunds (open, or lost: the bank paid)"
    )
    assigned_to: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    executed_at: datetime | None
    audit: list[AuditOut] | None = Field(default=None, description="only on GET /api/refunds/{id}")
    parts: list[PartOut] | None = Field(default=None, description="only on GET /api/refunds/{id}: one per tender")


class RefundPage(Out):
    refunds: list[RefundOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last one")


class ReviewAnswer(Out):
    id: str
    state: str
    awaiting_checker: bool = Field(description="a first approval is recorded; a second approver must check it")


class DeliveryList(Out):
    deliveries: list[DeliverySummary]  # the ledger's record, as it is: its fields are the answer


class ReplayAnswer(Out):
    id: str
    status: str


def refunded(row: Refund) -> int:
    if row.state in states.SUCCESSES:
        return row.approved_amount if row.approved_amount is not None else row.amount
    if row.state == states.RECORDED and row.money_moved:
        return row.amount
    return 0


def refund_out(
    row: Refund,
    trail: Sequence[AuditEntry] | None = None,
    *,
    disputed: bool = False,
    parts: Sequence[Refund] | None = None,
) -> RefundOut:
    asked = row.request or {}
    stored = row.decision or {}
    decision = stored.get("decision")
    review = stored.get("reviewed")
    moved = refunded(row) > 0
    return RefundOut(
        id=row.id,
        state=row.state,
        kind=row.kind,
        connector=row.connector,
        store_id=row.store_id,
        order_id=row.order_id,
        source_ref=row.source_ref,
        currency=row.currency,
        amounts=Amounts(requested=row.amount, approved=row.approved_amount, refunded=refunded(row)),
        money_moved=moved,
        reason=str(asked.get("reason") or "other"),
        reason_text=str(asked.get("reason_text") or ""),
        customer=CustomerOut(id=row.customer_id, email=row.customer_email),
        lines=[LineOut.model_validate(_line(line)) for line in asked.get("lines") or ()],
        shipping=int(asked.get("shipping") or 0),
        route=row.route,
        gateway_refund_id=row.gateway_refund_id,
        writeback_ref=row.writeback_ref,
        decision=DecisionOut.model_validate(decision) if isinstance(decision, dict) else None,
        review=ReviewOut.model_validate(review) if isinstance(review, dict) else None,
        needs_person=row.needs_person,
        disputed=disputed,
        assigned_to=row.assigned_to,
        last_error=row.last_error,
        created_at=_zoned(row.created_at),
        updated_at=_zoned(row.updated_at),
        executed_at=as_utc(row.executed_at),
        audit=None if trail is None else [_entry(a) for a in trail],
        parts=None if parts is None else [_part(p) for p in parts],
    )


def _part(part: Refund) -> PartOut:
    paid = (part.request or {}).get("payments") or [{}]
    return PartOut(
        id=part.id,
        state=part.state,
        tender=str(paid[0].get("platform_label") or ""),
        route=part.route,
        amount=part.approved_amount if part.approved_amount is not None else part.amount,
        gateway_refund_id=part.gateway_refund_id,
        needs_person=part.needs_person,
    )


def _entry(entry: AuditEntry) -> AuditOut:
    return AuditOut(at=_zoned(entry.at), actor=entry.actor, action=entry.action, detail=entry.detail)


def _line(line: dict[str, Any]) -> dict[str, Any]:
    return {name: line[name] for name in LineOut.model_fields if name in line}


def _zoned(value: datetime) -> datetime:
    zoned = as_utc(value)
    assert zoned is not None
    return zoned
