"""How the simulator signs its webhooks and checks them in ``verify-webhook-signature``.

PayPal signs ``<transmission id>|<transmission time>|<webhook id>|<CRC32 of the raw body>``
with its certificate; the simulator uses an HMAC with a private key instead, which only it
can produce, so it answers SUCCESS only for transmissions it sent, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
import zlib
from datetime import UTC, datetime

AUTH_ALGO = "SHA256withRSA"


def signature(key: bytes, transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> str:
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def headers(key: bytes, cert_url: str, webhook_id: str, body: bytes, when: datetime | None = None) -> dict[str, str]:
    """The five ``PAYPAL-*`` headers PayPal sends with a webhook."""
    sent = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    while True:  # the spec's transmission_sig pattern wants a word character first
        transmission_id = str(uuid.uuid4())
        sig = signature(key, transmission_id, sent, webhook_id, body)
        if sig[0].isalnum():
            break
    return {
        "PAYPAL-AUTH-ALGO": AUTH_ALGO,
        "PAYPAL-CERT-URL": cert_url,
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-SIG": sig,
        "PAYPAL-TRANSMISSION-TIME": sent,
    }


def top_level_raw(text: str) -> dict[str, str]:
    """Each top-level member of a JSON object as its raw text, exactly as sent."""
    decoder = json.JSONDecoder()
    members: dict[str, str] = {}
    index = _skip(text, 0)
    if text[index : index + 1] != "{":
        raise ValueError("not a JSON object")
    index = _skip(text, index + 1)
    while text[index : index + 1] != "}":
        name, index = decoder.raw_decode(text, index)
        index = _skip(text, index)
        if text[index : index + 1] != ":" or not isinstance(name, str):
            raise ValueError(f"expected a member name and ':' at {index}")
        start = _skip(text, index + 1)
        _, end = decoder.raw_decode(text, start)
        members[name] = text[start:end]
        index = _skip(text, end)
        if text[index : index + 1] == ",":
            index = _skip(text, index + 1)
        elif text[index : index + 1] != "}":
            raise ValueError(f"expected ',' or '}}' at {index}")
    return members


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index
