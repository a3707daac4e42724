"""Square webhook signatures: base64(HMAC-SHA256(signature key, notification URL + raw body)).

Square signs with the subscription's signature key over the exact notification URL it posts
to, so a proxy that changes the URL (or a trailing slash) breaks verification: the hub must be
told the public URL. The scheme has no timestamp, hence no expiry check; replays are caught by
the ``event_id`` dedupe key. Regenerating a key in Square takes effect at once, so the previous
key is also accepted while the hub's configuration catches up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from square.utils.webhooks_helper import verify_signature

from hub.errors import MalformedBody, SignatureInvalid
from hub.testing.signing import hmac_base64

SIGNATURE_HEADER = "x-square-hmacsha256-signature"


def sign(signature_key: str, notification_url: str, body: bytes) -> str:
    """The header value Square would send (used by the simulator and tests)."""
    return hmac_base64(signature_key, notification_url.encode() + body)


def check_signature(body: bytes, header: str | None, keys: Iterable[str | None], notification_url: str) -> None:
    """Raise ``SignatureInvalid`` unless one of ``keys`` produced ``header`` for this URL and body."""
    usable = [key for key in keys if key]
    if not usable:
        raise SignatureInvalid("no Square webhook signature key is configured")
    if not notification_url:
        raise SignatureInvalid("no Square notification URL is configured")
    if not header:
        raise SignatureInvalid(f"missing {SIGNATURE_HEADER} header")
    try:
        text = body.decode("utf-8")  # strict: a lossless round trip to the signed bytes
    except UnicodeDecodeError:
        raise SignatureInvalid("body is not UTF-8, so it cannot carry a valid Square signature") from None
    # The SDK helper compares with hmac.compare_digest (constant time).
    for key in usable:
        if verify_signature(
            request_body=text, signature_header=header, signature_key=key, notification_url=notification_url
        ):
            return
    raise SignatureInvalid("Square webhook signature does not match")


def load_event(body: bytes) -> dict[str, Any]:
    """The notification JSON of an authentic body; ``MalformedBody`` when it is not one."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise MalformedBody("Square notification is not JSON") from None
    if not isinstance(payload, dict) or not payload.get("event_id") or not payload.get("type"):
        raise MalformedBody("Square notification without event_id or type")
    return payload
