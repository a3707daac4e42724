"""Pure mappings between the hub's data and Square's JSON shapes (read beside Square's API docs).

Everything here works on plain dicts (the SDK's pydantic models are dumped to JSON first), so
the adapter, the webhook parser and the simulator tests share one reading of Square's shapes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hub.contracts import Execution, GatewayEvent, Outcome, PaymentState, RefundResult
from hub.models.money import normalize_currency

# PaymentRefund.status (spec: "PENDING - Awaiting approval ... FAILED - An error occurred").
REFUND_STATUS: dict[str, Outcome] = {
    "PENDING": Outcome.PENDING,
    "COMPLETED": Outcome.SUCCEEDED,
    "REJECTED": Outcome.FAILED,
    "FAILED": Outcome.FAILED,
}

# Payment.status: only a COMPLETED payment has captured money that can be refunded.
CAPTURED_PAYMENT_STATUSES = frozenset({"COMPLETED"})

REFUND_EVENT_TYPES = frozenset({"refund.created", "refund.updated"})

# Square limits: idempotency_key "max of 45 characters" (fewer with multi-byte characters),
# reason maxLength 192.
IDEMPOTENCY_KEY_LIMIT = 45
REASON_LIMIT = 192
_HUB_ID_LIMIT = 64
_MARKER = re.compile(r"\[hub_refund_id=([^\]\s]+)\]\s*$")


def fit(value: str, limit: int) -> str:
    """``value`` itself when it fits in ``limit`` UTF-8 bytes, else a readable prefix plus a hash.

    Always the same output for the same input, so a retried call carries the same value.
    """
    if len(value.encode()) <= limit:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    prefix = re.sub(r"[^A-Za-z0-9_.:-]", "", value)[: max(0, limit - len(digest) - 1)]
    return f"{prefix}-{digest}" if prefix else digest[:limit]


def idempotency_key(hub_key: str) -> str:
    """The ``idempotency_key`` body field for a hub key (Square accepts at most 45 characters)."""
    return fit(hub_key, IDEMPOTENCY_KEY_LIMIT)


def compose_reason(text: str, hub_refund_id: str) -> str:
    """Refund ``reason``: the human text, then a marker carrying the hub refund id.

    Square refunds have no metadata, so the reason is the only field that can bring the hub
    refund id back in webhooks and lookups. The marker is kept whole; the text is cut to fit.
    """
    marker = f"[hub_refund_id={fit(hub_refund_id, _HUB_ID_LIMIT)}]"
    room = REASON_LIMIT - len(marker) - 1
    head = " ".join(text.split())[:room].rstrip()
    return f"{head} {marker}" if head else marker


def refund_request(execution: Execution) -> dict[str, Any]:
    """The ``RefundPayment`` body for ``execution``; the same execution always gives the same body."""
    text = execution.note or execution.reason
    if execution.order_id:
        text = f"Order {execution.order_id}: {text}"
    return {
        "idempotency_key": idempotency_key(execution.idempotency_key),
        "amount_money": to_money(execution.amount, execution.currency),
        "payment_id": execution.payment_reference,
        "reason": compose_reason(text, execution.hub_refund_id),
    }


def hub_refund_id_from_reason(reason: str | None) -> str | None:
    """The hub refund id a hub-made refund carries in its reason; None for dashboard refunds."""
    if not reason:
        return None
    match = _MARKER.search(reason)
    return match.group(1) if match else None


def reason_matches(reason: str | None, hub_refund_id: str) -> bool:
    return hub_refund_id_from_reason(reason) == fit(hub_refund_id, _HUB_ID_LIMIT)


def to_money(amount: int, currency: str) -> dict[str, Any]:
    """Hub minor units to Square ``Money``.

    Square's ``amount`` is "the smallest denomination of the applicable currency" per ISO 4217
    (USD cents, JPY yen, KWD fils, HUF fillér), the same exponent the hub uses, so the integer
    passes through unchanged; only the currency is validated and upper-cased.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"refund amount must be a positive integer of minor units, not {amount!r}")
    return {"amount": amount, "currency": normalize_currency(currency)}


def from_money(money: Mapping[str, Any] | None) -> tuple[int | None, str | None]:
    if not money:
        return None, None
    currency = money.get("currency")
    return money.get("amount"), currency.upper() if isinstance(currency, str) else None


def refund_outcome(status: str | None) -> Outcome:
    # A status Square adds later is not a failure we can prove: the janitor resolves it.
    return REFUND_STATUS.get((status or "").upper(), Outcome.UNKNOWN)


def first_error(errors: Sequence[Mapping[str, Any]] | None) -> tuple[str | None, str | None]:
    """(code, detail) of the first entry of Square's ``errors`` array."""
    for error in errors or ():
        return error.get("code"), error.get("detail")
    return None, None


def refund_result(refund: Mapping[str, Any], errors: Sequence[Mapping[str, Any]] | None = None) -> RefundResult:
    """A ``PaymentRefund`` (plus any ``errors`` sent beside it) as the hub's result."""
    amount, currency = from_money(refund.get("amount_money"))
    code, message = first_error(errors)
    return RefundResult(
        outcome=refund_outcome(refund.get("status")),
        gateway_refund_id=refund.get("id"),
        amount=amount,
        currency=currency,
        code=code,
        message=message,
        raw_status=refund.get("status"),
    )


def refund_response_result(body: Mapping[str, Any]) -> RefundResult:
    """Read a 2xx ``RefundPaymentResponse``.

    Square may answer 2xx with ``errors`` and either no refund or a refund in status FAILED
    (the SDK raises nothing then): both are declines. A 2xx with neither is unreadable.
    """
    errors = body.get("errors") or []
    refund = body.get("refund")
    if refund:
        return refund_result(refund, errors)
    code, message = first_error(errors)
    if errors:
        return RefundResult(outcome=Outcome.FAILED, code=code, message=message)
    return RefundResult(outcome=Outcome.UNKNOWN, code="empty_response", message="2xx without refund or errors")


def payment_state(payment: Mapping[str, Any], refunds: Iterable[Mapping[str, Any]] = ()) -> PaymentState:
    """``Payment`` (and its refunds) as the captured / refunded-so-far pair the hub balances on.

    ``total_money`` (amount plus tip) is what a refund may reach. Refunded is the larger of
    Square's ``refunded_money`` and the sum of the payment's pending and completed refunds, so
    a pending refund always counts against the balance whichever way Square totals it.
    """
    total, currency = from_money(payment.get("total_money") or payment.get("amount_money"))
    captured = (total or 0) if (payment.get("status") or "").upper() in CAPTURED_PAYMENT_STATUSES else 0
    results = tuple(refund_result(refund) for refund in refunds)
    counted = sum(r.amount or 0 for r in results if r.outcome in (Outcome.SUCCEEDED, Outcome.PENDING))
    refunded_money, _ = from_money(payment.get("refunded_money"))
    return PaymentState(
        reference=payment.get("id", ""),
        currency=currency or "",
        captured=captured,
        refunded=max(refunded_money or 0, counted),
        disputed=False,  # GetPayment says nothing about disputes: the gateway asks the Disputes API
        refunds=results,
    )


def webhook_event(payload: Mapping[str, Any]) -> GatewayEvent | None:
    """A ``refund.created`` / ``refund.updated`` notification as a hub event; None for others."""
    if payload.get("type") not in REFUND_EVENT_TYPES:
        return None
    data = payload.get("data") or {}
    refund = (data.get("object") or {}).get("refund") or {}
    refund_id = refund.get("id") or data.get("id")
    if not refund_id:
        return None
    amount, currency = from_money(refund.get("amount_money"))
    return GatewayEvent(
        gateway_refund_id=refund_id,
        outcome=refund_outcome(refund.get("status")),
        payment_reference=refund.get("payment_id"),
        hub_refund_id=hub_refund_id_from_reason(refund.get("reason")),
        amount=amount,
        currency=currency,
        event_id=payload.get("event_id"),
    )
