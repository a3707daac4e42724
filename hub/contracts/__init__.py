"""The plugin contracts: the abstract connector and gateway, and the data they exchange."""

from hub.contracts.connector import Connector, PollResult
from hub.contracts.embedded import Answer, FramedRequest, FramedSession
from hub.contracts.gateway import Gateway
from hub.contracts.inbound import Delivery, Headers, Inbound, Notice, Verified
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
    "Notice",
    "Outcome",
    "PaymentState",
    "PollResult",
    "RecordResult",
    "RefundLookup",
    "RefundResult",
    "StoreContext",
    "StoreDirectory",
    "Verified",
    "WriteBack",
]
