"""Pure mappings between the hub's shapes and Stripe's: amounts, targets, statuses, refund objects.

Everything here works on plain dicts (``StripeObject.to_dict()`` or webhook JSON), so it can be
read beside docs.stripe.com and tested without the SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.contracts import Execution, GatewayEvent, Outcome, PaymentState, RefundResult
from hub.models.money import CurrencyError, exponent, normalize_currency

# Stripe refund ``status`` → hub outcome (docs.stripe.com/api/refunds/object). ``requires_action``
# waits on the customer (e.g. bank details for a refund to a closed card): not final yet.
STATUS_MAP: dict[str, Outcome] = {
    "pending": Outcome.PENDING,
    "requires_action": Outcome.PENDING,
    "succeeded": Outcome.SUCCEEDED,
    "failed": Outcome.FAILED,
    "canceled": Outcome.FAILED,
}

# Where Stripe's API amount differs from ISO 4217 minor units (docs.stripe.com/currencies):
# currency -> (decimal places of Stripe's API amount, step the API amount must be a multiple of).
# - zero-decimal currencies: the amount is the whole unit (¥500 is 500);
# - three-decimal currencies: minor units, but the last digit must be 0 (5.124 KWD is refused);
# - ISK became zero-decimal in 2023 but is still sent with two decimals, in multiples of 100;
# - HUF and TWD are two-decimal for charges and refunds (zero-decimal only for payouts).
# Any other currency uses its ISO exponent with step 1.
CURRENCY_UNITS: dict[str, tuple[int, int]] = {
    "BIF": (0, 1),
    "CLP": (0, 1),
    "DJF": (0, 1),
    "GNF": (0, 1),
    "JPY": (0, 1),
    "KMF": (0, 1),
    "KRW": (0, 1),
    "MGA": (0, 1),
    "PYG": (0, 1),
    "RWF": (0, 1),
    "UGX": (0, 1),
    "VND": (0, 1),
    "VUV": (0, 1),
    "XAF": (0, 1),
    "XOF": (0, 1),
    "XPF": (0, 1),
    "BHD": (3, 10),
    "JOD": (3, 10),
    "KWD": (3, 10),
    "OMR": (3, 10),
    "TND": (3, 10),
    "ISK": (2, 100),
    "HUF": (2, 1),
    "TWD": (2, 1),
}

# The hub's reason codes Stripe has a word for; anything else is the customer's request.
REASON_MAP: dict[str, str] = {
    "duplicate": "duplicate",
    "fraud": "fraudulent",
    "fraudulent": "fraudulent",
}

# Stripe metadata limits: keys up to 40 characters, values up to 500 (docs.stripe.com/api/metadata).
METADATA_VALUE_MAX = 500

# Stripe refunds by PaymentIntent (pi_) or by charge (ch_, and py_ for non-card charges).
INTENT_PREFIX = "pi_"
CHARGE_PREFIXES = ("ch_", "py_")


class AmountNotRepresentable(ValueError):
    """A hub amount Stripe cannot take in this currency (wrong precision or unknown currency)."""

    code = "amount_not_representable"


def stripe_units(currency: str) -> tuple[int, int]:
    """(Stripe's decimal places, required step) for an ISO code."""
    code = normalize_currency(currency)
    return CURRENCY_UNITS.get(code, (exponent(code), 1))


def _scales(currency: str) -> tuple[int, int, int]:
    """(ISO exponent, Stripe's decimal places, Stripe's step), refusing unknown currencies."""
    try:
        places, step = stripe_units(currency)
        return exponent(currency), places, step
    except CurrencyError as exc:
        raise AmountNotRepresentable(str(exc)) from exc


def to_stripe_amount(minor: int, currency: str) -> int:
    """Hub minor units (ISO 4217 exponent) → Stripe API amount, refusing what would need rounding."""
    iso, places, step = _scales(currency)
    if places >= iso:
        amount = minor * 10 ** (places - iso)
    elif minor % 10 ** (iso - places):
        raise AmountNotRepresentable(f"{minor} minor units of {currency.upper()} is not a whole amount at Stripe")
    else:
        amount = minor // 10 ** (iso - places)
    if amount % step:
        raise AmountNotRepresentable(
            f"Stripe needs {currency.upper()} amounts in multiples of {step} (API units); got {amount}"
        )
    return amount


def from_stripe_amount(amount: int, currency: str) -> int:
    """Stripe API amount → hub minor units; raises ``AmountNotRepresentable`` if not exact."""
    iso, places, _ = _scales(currency)
    if places <= iso:
        return amount * 10 ** (iso - places)
    if amount % 10 ** (places - iso):
        raise AmountNotRepresentable(f"Stripe amount {amount} {currency.upper()} has sub-unit digits")
    return amount // 10 ** (places - iso)


def target(reference: str, extra: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """Which Stripe object to refund: ("payment_intent", pi) or ("charge", ch); None if neither.

    WooCommerce stores the charge id as the transaction id and the PaymentIntent as
    ``_stripe_intent_id``; the PaymentIntent is preferred when known.
    """
    intent = (extra or {}).get("stripe_intent_id", "")
    if intent.startswith(INTENT_PREFIX):
        return "payment_intent", intent
    if reference.startswith(INTENT_PREFIX):
        return "payment_intent", reference
    if reference.startswith(CHARGE_PREFIXES):
        return "charge", reference
    return None


def refund_params(execution: Execution, kind: str, object_id: str, amount: int) -> dict[str, Any]:
    """The ``POST /v1/refunds`` parameters: the hub refund id in metadata finds a lost response again."""
    metadata = {
        "hub_refund_id": execution.hub_refund_id,
        "order_id": execution.order_id,
        "source_ref": execution.source_ref,
    }
    return {
        kind: object_id,
        "amount": amount,
        "reason": REASON_MAP.get(execution.reason, "requested_by_customer"),
        "metadata": {k: v[:METADATA_VALUE_MAX] for k, v in metadata.items() if v},
    }


def outcome_of(status: str | None) -> Outcome:
    """A refund status Stripe might add later is not a failure: resolve it by asking again."""
    return STATUS_MAP.get(status or "", Outcome.UNKNOWN)


def hub_amount(amount: Any, currency: str | None) -> int | None:
    """A Stripe amount in hub minor units, or None when it cannot be expressed exactly."""
    if not isinstance(amount, int) or not currency:
        return None
    try:
        return from_stripe_amount(amount, currency)
    except AmountNotRepresentable:
        return None


def refund_result(refund: Mapping[str, Any]) -> RefundResult:
    """A Stripe refund object → ``RefundResult`` (code: failure or pending reason)."""
    status = refund.get("status")
    currency = refund.get("currency")
    code = refund.get("failure_reason") or refund.get("pending_reason")
    return RefundResult(
        outcome=outcome_of(status),
        gateway_refund_id=refund.get("id"),
        amount=hub_amount(refund.get("amount"), currency),
        currency=currency.upper() if currency else None,
        code=code,
        message=f"Stripe refund {status}" + (f": {code}" if code else ""),
        raw_status=status,
    )


def hub_refund_id(refund: Mapping[str, Any]) -> str | None:
    return (refund.get("metadata") or {}).get("hub_refund_id") or None


def _id_of(value: Any) -> str | None:
    """An expandable field: an id string or the expanded object."""
    if isinstance(value, Mapping):
        return value.get("id")
    return value or None


def refund_event(refund: Mapping[str, Any], event_id: str | None) -> GatewayEvent:
    result = refund_result(refund)
    return GatewayEvent(
        gateway_refund_id=refund["id"],
        outcome=result.outcome,
        payment_reference=_id_of(refund.get("payment_intent")) or _id_of(refund.get("charge")),
        hub_refund_id=hub_refund_id(refund),
        amount=result.amount,
        currency=result.currency,
        event_id=event_id,
    )


def events_of(event: Mapping[str, Any]) -> list[GatewayEvent]:
    """Refund events in a Stripe event: a refund object, or a charge with its refunds expanded.

    Since API 2022-11-15 a charge carries ``refunds`` only when expanded, so a bare
    ``charge.refunded`` yields nothing here; the refund's own events carry the detail.
    """
    obj = (event.get("data") or {}).get("object") or {}
    if obj.get("object") == "refund":
        return [refund_event(obj, event.get("id"))]
    if obj.get("object") == "charge":
        refunds = (obj.get("refunds") or {}).get("data") or []
        return [refund_event(r, event.get("id")) for r in refunds if isinstance(r, Mapping) and r.get("id")]
    return []


def payment_state(reference: str, charge: Mapping[str, Any] | None, currency: str) -> PaymentState:
    """A charge (a PaymentIntent's ``latest_charge``) → the hub's view of the refundable balance."""
    if not charge:
        return PaymentState(reference=reference, currency=currency.upper(), captured=0, refunded=0)
    code = charge["currency"]
    return PaymentState(
        reference=reference,
        currency=code.upper(),
        captured=from_stripe_amount(charge.get("amount_captured") or 0, code),
        refunded=from_stripe_amount(charge.get("amount_refunded") or 0, code),
        disputed=bool(charge.get("disputed")),
    )
