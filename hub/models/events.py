"""What a connector makes of a platform event, after re-reading it (the normalized schema)."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import Field

from hub.models.request import Frozen, RefundRequest


class RefundRequested(Frozen):
    """A customer or merchant asks for a refund; the hub decides and executes."""

    kind: Literal["requested"] = "requested"
    request: RefundRequest


class RefundRecorded(Frozen):
    """A refund already exists on the platform.

    ``money_moved=True``: the platform or gateway already moved it; record only.
    ``money_moved=False`` (WooCommerce manual refund, Magento offline credit memo): the hub
    may execute it at the gateway if the store says so, subject to policy.
    """

    kind: Literal["recorded"] = "recorded"
    request: RefundRequest
    money_moved: bool
    gateway_refund_id: str | None = None


class Ignored(Frozen):
    """Authentic but not about refunds: acknowledged and counted."""

    kind: Literal["ignored"] = "ignored"
    reason: str
    topic: str = ""


Event = Union[RefundRequested, RefundRecorded, Ignored]


class EventEnvelope(Frozen):
    """The schema root published for plugin authors: one event of any kind."""

    event: Event = Field(discriminator="kind")
