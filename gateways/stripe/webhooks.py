"""Stripe status webhooks: ``Stripe-Signature`` checked by the SDK on the raw bytes, then parsed.

The header is ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``; Stripe rejects replays
older than the tolerance (300 s by default) and, while a secret is being rolled, signs with
both secrets. The hub also accepts the previous secret it was configured with.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import stripe

from gateways.stripe.settings import DEFAULT_TOLERANCE
from gateways.stripe.transformers import events_of
from hub.contracts import GatewayEvent, Inbound
from hub.errors import MalformedBody, ParseError, SignatureInvalid

SIGNATURE_HEADER = "Stripe-Signature"


def verify_signature(inbound: Inbound, secrets: Sequence[str], tolerance: int = DEFAULT_TOLERANCE) -> None:
    """Raise ``SignatureInvalid`` unless one of ``secrets`` signed this body recently enough."""
    header = inbound.headers.get(SIGNATURE_HEADER)
    if not header:
        raise SignatureInvalid(f"missing {SIGNATURE_HEADER} header")
    if not secrets:
        raise SignatureInvalid("no Stripe webhook secret configured for this account")
    reason = "signature mismatch"
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(inbound.body, header, secret, tolerance)
            return
        except stripe.SignatureVerificationError as exc:
            reason = exc.user_message or reason
        except UnicodeDecodeError:
            reason = "body is not UTF-8"
    raise SignatureInvalid(f"Stripe webhook refused: {reason}")


def event_json(body: bytes, error: type[Exception] = MalformedBody) -> dict[str, Any]:
    """The event object of a webhook body, with its ``id`` and ``type``."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"Stripe webhook body is not JSON: {exc}") from exc
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise error("Stripe webhook body is not an event (no id or type)")
    return event


def parse_events(body: bytes) -> list[GatewayEvent]:
    """Refund status events from a verified body (a ``ParseError`` becomes a dead letter)."""
    return events_of(event_json(body, ParseError))
