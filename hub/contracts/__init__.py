"""The plugin contracts: the abstract connector and gateway, and the data they exchange."""

from hub.contracts.connector import Connector, PollResult
from hub.contracts.credit import CreditIssue, CreditResult
from hub.contracts.embedded import Answer, FramedRequest, FramedSession
from hub.contracts.gateway import Gateway
from hub.contracts.inbound import Delivery, Headers, Inbound, Notice, Verified
from hub.contracts.listing import ListedRefund, ListingFailed, RateLimited, RefundListing, patiently
from hub.contracts.results import (
    DecisionNotice,
    DisputeEvent,
    DisputeState,
    Execution,
    GatewayEvent,
    Outcome,
    PaymentState,
    RecordResult,
    RefundLookup,
    RefundResult,
    WriteBack,
)
from hub.contracts.stores import StoreContext, StoreDirectory

__all__ = [
    "Answer",
    "Connector",
    "CreditIssue",
    "CreditResult",
    "DecisionNotice",
    "Delivery",
    "DisputeEvent",
    "DisputeState",
    "Execution",
    "FramedRequest",
    "FramedSession",
    "Gateway",
    "GatewayEvent",
    "Headers",
    "Inbound",
    "ListedRefund",
    "ListingFailed",
    "Notice",
    "Outcome",
    "PaymentState",
    "PollResult",
    "RateLimited",
    "RecordResult",
    "RefundListing",
    "RefundLookup",
    "RefundResult",
    "StoreContext",
    "StoreDirectory",
    "Verified",
    "WriteBack",
    "patiently",
]
