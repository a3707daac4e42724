"""PayPal disputes: the ``CUSTOMER.DISPUTE.*`` webhooks (developer.paypal.com/docs/disputes/webhooks).

The resource is a dispute: ``dispute_id``, ``status`` (``OPEN``, ``WAITING_FOR_BUYER_RESPONSE``,
``WAITING_FOR_SELLER_RESPONSE``, ``UNDER_REVIEW``, ``OTHER`` while it runs; ``RESOLVED`` at the
end, with ``dispute_outcome.outcome_code``), ``dispute_amount`` and ``disputed_transactions``,
whose ``seller_transaction_id`` is the merchant's capture id, the payment reference the hub
holds. One dispute may name several captures: an event is made for each. An outcome in the
buyer's favour (``RESOLVED_BUYER_FAVOUR``, ``ACCEPTED``, ``RESOLVED_WITH_PAYOUT``: PayPal paid the
buyer) keeps the hold: the money has gone back already. A resolution without a known outcome
holds too (a person looks). The payment lookup needs no second call: a capture under dispute
carries ``status_details.reason`` ``BUYER_COMPLAINT`` / ``CHARGEBACK`` (``transformers.is_disputed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateways.paypal.money import to_minor_units
from hub.contracts import DisputeEvent, DisputeState
from hub.models.times import parse_rfc3339

DISPUTE_EVENT_TYPES = frozenset({"CUSTOMER.DISPUTE.CREATED", "CUSTOMER.DISPUTE.UPDATED", "CUSTOMER.DISPUTE.RESOLVED"})
OUTCOMES = {
    "RESOLVED_SELLER_FAVOUR": DisputeState.WON,
    "CANCELED_BY_BUYER": DisputeState.WON,
    "DENIED": DisputeState.WON,
    "RESOLVED_BUYER_FAVOUR": DisputeState.LOST,
    "ACCEPTED": DisputeState.LOST,
    "RESOLVED_WITH_PAYOUT": DisputeState.LOST,
}


def dispute_state(status: str | None, outcome: str | None) -> DisputeState:
    if status != "RESOLVED":
        return DisputeState.OPEN
    return OUTCOMES.get(outcome or "", DisputeState.OPEN)


def _amount(money: Any) -> tuple[int | None, str | None]:
    if not isinstance(money, Mapping) or not isinstance(money.get("currency_code"), str):
        return None, None
    currency = money["currency_code"]
    try:
        return to_minor_units(str(money.get("value")), currency), currency
    except (ValueError, ArithmeticError):
        return None, currency


def dispute_events(event: Mapping[str, Any]) -> list[DisputeEvent]:
    """The dispute of a ``CUSTOMER.DISPUTE.*`` event, once per capture it names."""
    resource = event.get("resource")
    if event.get("event_type") not in DISPUTE_EVENT_TYPES or not isinstance(resource, Mapping):
        return []
    dispute_id = resource.get("dispute_id")
    if not isinstance(dispute_id, str) or not dispute_id:
        return []
    status = resource.get("status")
    outcome = (resource.get("dispute_outcome") or {}).get("outcome_code")
    amount, currency = _amount(resource.get("dispute_amount"))
    captures = [
        t.get("seller_transaction_id") for t in resource.get("disputed_transactions") or () if isinstance(t, Mapping)
    ]
    raw = f"{status}/{outcome}" if status == "RESOLVED" and outcome else status
    return [
        DisputeEvent(
            dispute_id=dispute_id,
            payment_reference=capture,
            state=dispute_state(status, outcome),
            raw_status=raw if isinstance(raw, str) else "UNKNOWN",
            amount=amount,
            currency=currency,
            event_id=event.get("id"),
            at=parse_rfc3339(resource.get("update_time")) or parse_rfc3339(event.get("create_time")),
        )
        for capture in dict.fromkeys(c for c in captures if isinstance(c, str) and c)
    ]
