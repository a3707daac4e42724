"""The normalized schema shared by connectors, policy and gateways (importable without Flask)."""

from hub.models.events import Event, EventEnvelope, Ignored, RefundRecorded, RefundRequested
from hub.models.request import (
    Customer,
    DigitalUsage,
    Line,
    OrderFacts,
    Payment,
    ProductKind,
    ReasonCode,
    RefundRequest,
    TenderKind,
)

__all__ = [
    "Customer",
    "DigitalUsage",
    "Event",
    "EventEnvelope",
    "Ignored",
    "Line",
    "OrderFacts",
    "Payment",
    "ProductKind",
    "ReasonCode",
    "RefundRecorded",
    "RefundRequest",
    "RefundRequested",
    "TenderKind",
]
