"""Stripe status webhooks: ``Stripe-Signature`` checked on the raw bytes, then parsed.

The header is ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``; Stripe rejects replays
older than the tolerance (300 s by default) and, while a secret is being rolled, signs with
both secrets. The hub also accepts the previous secret it was configured with.

The check is the one Stripe documents (docs.stripe.com/webhooks#verify-manually) and the SDK's
``WebhookSignature.verify_header`` performs, done here so that web processes never import the
``stripe`` package (about 25 MB per worker); tests hold both to the same verdicts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import Any

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
    secrets = [secret for secret in secrets if secret and secret.strip()]
    if not secrets:
        raise SignatureInvalid("no Stripe webhook secret configured for this account")
    try:
        payload = inbound.body.decode("utf-8")  # Stripe signs the text of the event
    except UnicodeDecodeError:
        raise SignatureInvalid("Stripe webhook refused: body is not UTF-8") from None
    stamp, signatures = _parts(header)
    if stamp is None or not signatures:
        raise SignatureInvalid("Stripe webhook refused: no timestamp or v1 signature in the Stripe-Signature header")
    signed = f"{stamp}.{payload}".encode()
    if not any(_signed_by(secret, signed, signatures) for secret in secrets):
        raise SignatureInvalid("Stripe webhook refused: no signature matches the expected signature for the payload")
    if tolerance and stamp < time.time() - tolerance:
        raise SignatureInvalid(f"Stripe webhook refused: timestamp outside the tolerance zone ({stamp})")


def _parts(header: str) -> tuple[int | None, list[str]]:
    """The first ``t`` as an integer and every ``v1`` value, read as the SDK reads them (None and
    no signatures when the header cannot be read)."""
    items = [item.split("=", 2) for item in header.split(",")]
    try:
        stamp = int(next(item[1] for item in items if item[0] == "t"))
        signatures = [item[1] for item in items if item[0] == "v1"]
    except (StopIteration, IndexError, ValueError):
        return None, []
    return stamp, signatures


def _signed_by(secret: str, signed: bytes, signatures: Sequence[str]) -> bool:
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")) for given in signatures)


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
