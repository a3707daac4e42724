"""Build the requests the hub hands a gateway, for adapter tests and the contract suite."""

from __future__ import annotations

import uuid
from typing import Any

from hub.contracts import Execution, RefundLookup


def execution(reference: str, amount: int, currency: str = "USD", **fields: Any) -> Execution:
    """An ``Execution`` with a fresh hub refund id and its key; any field can be given."""
    hub_id = fields.pop("hub_refund_id", f"rf_{uuid.uuid4().hex[:12]}")
    key = fields.pop("idempotency_key", f"hub-{hub_id}")
    return Execution(
        hub_refund_id=hub_id,
        idempotency_key=key,
        payment_reference=reference,
        amount=amount,
        currency=currency,
        **fields,
    )


def lookup_for(done: Execution, gateway_refund_id: str | None = None, **fields: Any) -> RefundLookup:
    """The ``RefundLookup`` the janitor builds for an earlier ``Execution``."""
    return RefundLookup(
        hub_refund_id=done.hub_refund_id,
        idempotency_key=done.idempotency_key,
        payment_reference=done.payment_reference,
        amount=done.amount,
        currency=done.currency,
        gateway_refund_id=gateway_refund_id,
        payment_extra=done.payment_extra,
        **fields,
    )
