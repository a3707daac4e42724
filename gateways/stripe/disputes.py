"""Stripe disputes: the ``charge.dispute.*`` events, and whether a disputed charge still holds.

A dispute (docs.stripe.com/api/disputes/object) names its ``charge`` and, for PaymentIntents,
its ``payment_intent``; the hub may know the payment by either, so an event speaks for both.
Its ``status``: ``warning_needs_response``, ``warning_under_review``, ``needs_response`` and
``under_review`` are open; ``won``, ``warning_closed`` (an inquiry that never became a
chargeback) and ``prevented`` end for the merchant; ``lost`` (and the retired
``charge_refunded``) end with the money back to the cardholder. A charge's ``disputed`` flag
stays true after a dispute is won, so the lookup lists the charge's disputes
(``GET /v1/disputes?charge=``) to tell a hold from history. A status Stripe adds later holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gateways.stripe.transformers import hub_amount
from hub.contracts import DisputeEvent, DisputeState

DISPUTE_EVENT_TYPES = frozenset(
    {
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }
)
STATUSES = {
    "warning_needs_response": DisputeState.OPEN,
    "warning_under_review": DisputeState.OPEN,
    "needs_response": DisputeState.OPEN,
    "under_review": DisputeState.OPEN,
    "won": DisputeState.WON,
    "warning_closed": DisputeState.WON,
    "prevented": DisputeState.WON,
    "lost": DisputeState.LOST,
    "charge_refunded": DisputeState.LOST,
}


def dispute_state(status: str | None) -> DisputeState:
    return STATUSES.get(status or "", DisputeState.OPEN)


def _id_of(value: Any) -> str | None:
    """An expandable field: an id string or the expanded object."""
    found = value.get("id") if isinstance(value, Mapping) else value
    return found if isinstance(found, str) and found else None


def dispute_events(event: Mapping[str, Any]) -> list[DisputeEvent]:
    """The dispute in a ``charge.dispute.*`` event, once per reference it names (intent, charge)."""
    dispute = (event.get("data") or {}).get("object") or {}
    if event.get("type") not in DISPUTE_EVENT_TYPES or dispute.get("object") != "dispute" or not dispute.get("id"):
        return []
    status = dispute.get("status")
    created = event.get("created")
    at = datetime.fromtimestamp(created, UTC) if isinstance(created, int) and not isinstance(created, bool) else None
    currency = dispute.get("currency")
    references = dict.fromkeys(r for r in (_id_of(dispute.get("payment_intent")), _id_of(dispute.get("charge"))) if r)
    return [
        DisputeEvent(
            dispute_id=dispute["id"],
            payment_reference=reference,
            state=dispute_state(status),
            raw_status=status if isinstance(status, str) else "unknown",
            amount=hub_amount(dispute.get("amount"), currency if isinstance(currency, str) else None),
            currency=currency.upper() if isinstance(currency, str) else None,
            event_id=event.get("id"),
            at=at,
        )
        for reference in references
    ]


def holds(disputes: Any) -> bool:
    """Whether any dispute in ``disputes`` (Stripe dispute objects as dicts) holds refunds."""
    return any(dispute_state(d.get("status")) is not DisputeState.WON for d in disputes)
