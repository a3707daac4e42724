"""PayPal status webhooks: verified by asking PayPal, never by re-serialising the event.

PayPal signs with its own certificate; the supported check is
``POST /v1/notifications/verify-webhook-signature`` with the five ``PAYPAL-*`` transmission
headers, the account's ``webhook_id`` and the event. The event must be the *unmodified* JSON
the webhook carried (re-serialised JSON verifies as FAILURE), so the raw bytes are spliced
into the request body. A transmission time outside ``webhook_tolerance`` is refused before
asking. When the merchant re-creates the webhook, ``previous_webhook_id`` keeps events signed
for the old id verifiable during the switch.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from gateways.paypal.client import PayPalApi
from gateways.paypal.errors import failure_of
from gateways.paypal.settings import PayPalSettings
from hub.contracts import Inbound, Verified
from hub.errors import UNREADABLE, IngestError, MalformedBody, SignatureInvalid

JSON_SPACE = b" \t\r\n"
VERIFY_PATH = "/v1/notifications/verify-webhook-signature"
HEADERS = {
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "cert_url": "PAYPAL-CERT-URL",
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
}


class VerificationUnavailable(IngestError):
    """PayPal could not be asked; answering 5xx makes PayPal deliver the event again later."""

    status = 503
    code = "verification_unavailable"


def json_of(body: bytes) -> Any:
    """The body as JSON, before anything else: its bytes are spliced into the request to PayPal, so
    a body that is not one JSON value could add fields of its own there (``{}, "webhook_id": …``)."""
    if body != body.strip(JSON_SPACE):
        raise MalformedBody("PayPal webhook body has whitespace around the event (PayPal vouches for the event only)")
    try:
        return json.loads(body)
    except UNREADABLE:  # not JSON or UTF-8, 10^5 brackets, a 5 000-digit number
        raise MalformedBody("PayPal webhook body is not JSON") from None


def _event(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event["id"]:
        raise MalformedBody("PayPal webhook body has no event id")
    if not isinstance(event.get("event_type"), str) or not event["event_type"]:
        raise MalformedBody("PayPal webhook body has no event_type")
    return event


def verify(
    api: PayPalApi, settings: PayPalSettings, account: str, inbound: Inbound, now: datetime | None = None
) -> Verified:
    fields = {name: inbound.headers.get(header) for name, header in HEADERS.items()}
    missing = [HEADERS[name] for name, value in fields.items() if not value]
    if missing:
        raise SignatureInvalid(f"PayPal webhook without {', '.join(missing)}")
    _check_time(str(fields["transmission_time"]), settings.webhook_tolerance, now or datetime.now(UTC))
    document = json_of(inbound.body)  # only that it is JSON: what it says is read once PayPal vouched for it
    webhook_ids = [w for w in (settings.webhook_id, settings.previous_webhook_id) if w]
    if not webhook_ids:
        raise SignatureInvalid(f"no webhook_id configured for PayPal account {account}")
    for webhook_id in webhook_ids:
        if _ask_paypal(api, {**fields, "webhook_id": webhook_id}, inbound.body):
            event = _event(document)
            return Verified(store_id=account, topic=str(event["event_type"]), dedupe_key=str(event["id"]))
    raise SignatureInvalid("PayPal did not verify the webhook signature")


def _check_time(value: str, tolerance: float, now: datetime) -> None:
    try:
        sent = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SignatureInvalid(f"unreadable PAYPAL-TRANSMISSION-TIME {value!r}") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    if abs((now - sent).total_seconds()) > tolerance:
        raise SignatureInvalid(f"PayPal webhook transmitted at {value}, outside the {tolerance:.0f}s tolerance")


def _ask_paypal(api: PayPalApi, fields: dict[str, Any], raw_event: bytes) -> bool:
    head = json.dumps(fields)[:-1]  # every field but the event, without the closing brace
    body = head.encode() + b', "webhook_event": ' + raw_event + b"}"
    try:
        answer = api.rest.post(VERIFY_PATH, body)
    except Exception as exc:
        failure = failure_of(exc)
        if failure is not None and 400 <= failure.status < 500 and failure.status not in (401, 429):
            return False  # PayPal refused to consider it: not verifiable, so not authentic
        raise VerificationUnavailable(f"PayPal webhook verification unavailable: {exc}") from exc
    return answer.get("verification_status") == "SUCCESS"
