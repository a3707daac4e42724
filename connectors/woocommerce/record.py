"""What the hub writes back to WooCommerce: refund records that never move money twice, and notes.

The hub records its own refunds with ``api_refund: false`` (WooCommerce's default ``true`` would
have the payment plugin move the money again). WooCommerce has no idempotency key, so a record
already carrying the hub id (in ``meta_data``, or in its reason: see ``refund``), or an identical
note, is looked for first, and look-up and create for an order are one step (``order_claim``).
"""

from __future__ import annotations

from typing import Any

from connectors.woocommerce import transformers as tx
from connectors.woocommerce.client import WooClient
from connectors.woocommerce.parse import refund_of
from connectors.woocommerce.refund import find_hub_refund, order_claim, refund_body
from hub.contracts import DecisionNotice, Outcome, RecordResult, WriteBack
from hub.models.money import format_decimal

RECORDED_OUTCOMES = (Outcome.SUCCEEDED, Outcome.PENDING)


def record(client: WooClient, writeback: WriteBack, *, restock: bool) -> RecordResult:
    """A refund record for money the hub moved (``api_refund: false``); a private note otherwise.

    A manual WooCommerce refund the hub paid out already is the refund record (the REST API
    cannot update a refund), so it gets a note. Safe to repeat: a record already carrying the
    hub id, or the same note, is returned instead of a second one.
    """
    manual = refund_of(writeback.source_ref)
    if writeback.outcome not in RECORDED_OUTCOMES or manual is not None:
        note = _note_once(client, writeback.order_id, _outcome_note(writeback, manual), customer_note=False)
        return RecordResult(
            reference=f"note:{note['id']}",
            detail={"kind": "note", "outcome": writeback.outcome.value, "refund_id": manual},
        )
    with order_claim(client, writeback.order_id):
        existing = find_hub_refund(client, writeback.order_id, writeback.hub_refund_id)
        if existing is not None:
            return RecordResult(
                reference=str(existing["id"]), detail={"kind": "refund", "created": False, "api_refund": False}
            )
        order = client.get(f"orders/{int(writeback.order_id)}")
        body = refund_body(
            order,
            writeback,
            api_refund=False,
            restock=restock,
            meta_data={
                tx.HUB_ID_META: writeback.hub_refund_id,
                tx.HUB_GATEWAY_META: writeback.gateway or writeback.route,
                tx.HUB_GATEWAY_REFUND_META: writeback.gateway_refund_id or "",
            },
        )
        created = client.post(f"orders/{int(writeback.order_id)}/refunds", body)
    return RecordResult(reference=str(created["id"]), detail={"kind": "refund", "created": True, "api_refund": False})


def notify_decision(client: WooClient, notice: DecisionNotice) -> RecordResult:
    """A customer-visible order note (WooCommerce e-mails it); an identical note is not repeated."""
    note = _note_once(client, notice.order_id, notice.explanation, customer_note=True)
    return RecordResult(reference=f"note:{note['id']}", detail={"decision": notice.decision})


def _note_once(client: WooClient, order_id: str, text: str, *, customer_note: bool) -> Any:
    """The order note with this text, added unless an earlier attempt already did (notes have no key)."""
    path = f"orders/{int(order_id)}/notes"
    kind = "customer" if customer_note else "internal"
    with order_claim(client, order_id):
        for note in client.every(path, {"type": kind}, max_pages=5):
            if note.get("note") == text:
                return note
        return client.post(path, {"note": text, "customer_note": customer_note})


def _outcome_note(writeback: WriteBack, manual_refund: str | None) -> str:
    via = writeback.gateway or writeback.route
    money = f"{format_decimal(writeback.amount, writeback.currency)} {writeback.currency}"
    if manual_refund is not None and writeback.outcome in RECORDED_OUTCOMES:
        text = f"Refund Hub paid out manual refund #{manual_refund} ({money}) via {via}"
        text += f" ({writeback.gateway_refund_id})." if writeback.gateway_refund_id else "."
    else:
        text = f"Refund Hub: refund {writeback.hub_refund_id} of {money} via {via} is {writeback.outcome.value}."
    return f"{text} {writeback.note}".strip()
