"""The normalized refund request: the contract between connectors, policy and gateways.

Every platform's payload becomes these models (the normalized schema, docs/schema.json). Money is integer minor units
with an ISO 4217 code; datetimes are timezone-aware. The raw platform payload is kept by
reference (the stored delivery), never copied in here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from hub.models.money import normalize_currency


class Frozen(BaseModel):
    """Immutable, strict-ish base: unknown fields are an error, so typos surface."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ProductKind(str, Enum):
    PHYSICAL = "physical"
    DIGITAL = "digital"
    SERVICE = "service"
    SUBSCRIPTION = "subscription"
    GIFT_CARD = "gift_card"


class ReasonCode(str, Enum):
    """A small normalized set; the platform's own words travel in ``reason_text``."""

    NOT_RECEIVED = "not_received"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    NOT_AS_DESCRIBED = "not_as_described"
    WRONG_ITEM = "wrong_item"
    SIZE_OR_FIT = "size_or_fit"
    CHANGED_MIND = "changed_mind"
    DUPLICATE = "duplicate"
    FRAUD = "fraud"
    CANCELLED = "cancelled"
    OTHER = "other"


class Customer(Frozen):
    """Who ordered, and what the platform says about their past (``None``: it does not say)."""

    id: str | None = None
    email: str | None = None
    order_count: int | None = Field(
        default=None, ge=0, description="the customer's orders at the store, this one included (None: unknown)"
    )
    order_total: int | None = Field(
        default=None,
        ge=0,
        description="what those orders came to, minor units of the request's currency (None: unknown)",
    )


class DigitalUsage(Frozen):
    """What the platform knows about use of a digital good; ``None`` means unknown."""

    downloads: int | None = None
    download_limit: int | None = None
    activations: int | None = None
    accessed: bool | None = None


class Line(Frozen):
    """One order line as far as it is part of this refund (``quantity`` = units refunded)."""

    line_id: str
    sku: str | None = None
    product_id: str | None = None
    title: str = ""
    quantity: int = Field(ge=0)
    unit_price: int = Field(ge=0, description="minor units, one unit, before tax")
    tax: int = Field(default=0, ge=0, description="minor units, for the refunded quantity")
    kind: ProductKind = ProductKind.PHYSICAL
    final_sale: bool = False
    tags: tuple[str, ...] = ()
    usage: DigitalUsage | None = None

    @property
    def total(self) -> int:
        return self.unit_price * self.quantity + self.tax


class OrderFacts(Frozen):
    created_at: AwareDatetime
    paid_at: AwareDatetime | None = None
    fulfilled_at: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    currency: str
    total: int = Field(ge=0)
    captured: int = Field(ge=0)
    refunded: int = Field(default=0, ge=0, description="already refunded before this request")
    presentment_currency: str | None = None

    _currency = field_validator("currency", "presentment_currency")(
        lambda v: None if v is None else normalize_currency(v)
    )


class TenderKind(str, Enum):
    """What kind of money a tender is: the allocation strategies tell store credit from a payment."""

    PAYMENT = "payment"  # a card, wallet or bank payment through a gateway
    GIFT_CARD = "gift_card"
    STORE_CREDIT = "store_credit"


class Payment(Frozen):
    """One tender of the order (a payment, a capture of one, a gift card or store credit), as the
    platform labels it and the hub will route it. An order paid more than one way has several; the
    refund is allocated across them (``hub.ledger.tenders``)."""

    platform_label: str = Field(description="the platform's gateway label, e.g. 'stripe', 'shopify_payments'")
    gateway: str | None = Field(default=None, description="hub gateway name once routed, or 'platform'/'none'")
    reference: str = Field(description="PaymentIntent/charge, PayPal capture, Square payment id, ...")
    captured: int = Field(ge=0)
    currency: str
    extra: dict[str, str] = Field(default_factory=dict, description="e.g. stripe_intent_id, paypal_order_id, intent")
    tender: TenderKind = TenderKind.PAYMENT
    refundable: int | None = Field(
        default=None, ge=0, description="what the platform says can still be refunded on it (None: not told)"
    )
    suggested: int | None = Field(
        default=None, ge=0, description="the platform's own share of this request for it (Shopify suggestedRefund)"
    )

    _currency = field_validator("currency")(lambda v: normalize_currency(v))


class RefundRequest(Frozen):
    connector: str
    store_id: str
    order_id: str
    source_ref: str = Field(description="platform request/refund/return id; unique per store")
    delivery_id: str | None = None
    customer: Customer = Customer()
    order: OrderFacts
    lines: tuple[Line, ...] = ()
    shipping: int = Field(default=0, ge=0)
    amount: int = Field(gt=0, description="requested amount, minor units")
    currency: str
    reason: ReasonCode = ReasonCode.OTHER
    reason_text: str = ""
    payments: tuple[Payment, ...]
    requested_at: AwareDatetime
    hub_refund_id: str | None = Field(
        default=None, description="set when the platform record carries the hub's own id (an echo)"
    )

    _currency = field_validator("currency")(lambda v: normalize_currency(v))

    @property
    def primary_payment(self) -> Payment:
        return self.payments[0]


def utc_now() -> datetime:

    return datetime.now(UTC)
