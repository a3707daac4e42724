"""Square disputes: whether a payment has one that holds refunds, and the dispute webhooks.

ListDisputes (``GET /v2/disputes``) filters by state and location, not by payment, so the
lookup pages through the account's disputes and keeps those whose ``disputed_payment.payment_id``
is the payment (disputes are few; a dispute is on one payment). Square's states
(developer.squareup.com/reference/square/enums/DisputeState): the ``INQUIRY_*`` and
``EVIDENCE_REQUIRED``/``PROCESSING`` ones are open; ``WON`` and ``INQUIRY_CLOSED`` end for the
seller; ``LOST`` and ``ACCEPTED`` end with the money back to the cardholder. An inquiry that
escalates keeps its id, so one dispute row follows it. A state Square adds later holds
(the safe side: a person looks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from square.core.request_options import RequestOptions

from gateways.square.transformers import from_money
from hub.contracts import DisputeEvent, DisputeState
from hub.models.times import parse_rfc3339

# dispute.state.changed is the older name of dispute.state.updated; both still arrive
DISPUTE_EVENT_TYPES = frozenset({"dispute.created", "dispute.state.updated", "dispute.state.changed"})
STATES = {
    "INQUIRY_EVIDENCE_REQUIRED": DisputeState.OPEN,
    "INQUIRY_PROCESSING": DisputeState.OPEN,
    "EVIDENCE_REQUIRED": DisputeState.OPEN,
    "PROCESSING": DisputeState.OPEN,
    "INQUIRY_CLOSED": DisputeState.WON,
    "WON": DisputeState.WON,
    "LOST": DisputeState.LOST,
    "ACCEPTED": DisputeState.LOST,
}


def dispute_state(raw: str | None) -> DisputeState:
    return STATES.get(raw or "", DisputeState.OPEN)


def dispute_of(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The Dispute in a notification: ``data.object.object`` (older samples: ``data.object.dispute``)."""
    holder = (payload.get("data") or {}).get("object") or {}
    found = holder.get("object") or holder.get("dispute") or {}
    return found if isinstance(found, Mapping) else {}


def dispute_event(payload: Mapping[str, Any]) -> DisputeEvent | None:
    """A ``dispute.*`` notification as a hub event; None for other types or no payment."""
    if payload.get("type") not in DISPUTE_EVENT_TYPES:
        return None
    dispute = dispute_of(payload)
    dispute_id = dispute.get("id") or dispute.get("dispute_id") or (payload.get("data") or {}).get("id")
    payment_id = (dispute.get("disputed_payment") or {}).get("payment_id")
    if not dispute_id or not payment_id:
        return None
    amount, currency = from_money(dispute.get("amount_money"))
    raw = dispute.get("state")
    return DisputeEvent(
        dispute_id=dispute_id,
        payment_reference=payment_id,
        state=dispute_state(raw),
        raw_status=raw if isinstance(raw, str) else "UNKNOWN",
        amount=amount,
        currency=currency,
        event_id=payload.get("event_id"),
        at=parse_rfc3339(dispute.get("updated_at")) or parse_rfc3339(payload.get("created_at")),
    )


def payment_held(client: Any, payment_id: str, options: RequestOptions) -> bool:
    """Whether a dispute on ``payment_id`` holds refunds: open, or lost (the bank paid already)."""
    for dispute in client.disputes.list(request_options=options):
        found = dispute.model_dump(mode="json", exclude_none=True)
        if (found.get("disputed_payment") or {}).get("payment_id") != payment_id:
            continue
        if dispute_state(found.get("state")) is not DisputeState.WON:
            return True
    return False
