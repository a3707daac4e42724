"""Standard Webhooks signatures (https://www.standardwebhooks.com, spec v1): the signed content is
``<webhook-id>.<webhook-timestamp>.<body>``, HMAC-SHA256 with the base64 secret after its
``whsec_`` prefix, sent as ``v1,<base64>``; during a secret rotation one signature per secret,
space-separated, and a receiver accepts any that matches."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence

PREFIX = "whsec_"
VERSION = "v1"
TOLERANCE_SECONDS = 300  # the reference libraries' ±5 minutes


class SignatureError(ValueError):
    """A secret or a header that cannot be used."""


def new_secret() -> str:
    """A fresh ``whsec_`` secret: 32 random bytes (the spec asks for 24 to 64)."""
    return PREFIX + base64.b64encode(os.urandom(32)).decode()


def secret_bytes(secret: str) -> bytes:
    raw = secret[len(PREFIX) :] if secret.startswith(PREFIX) else secret
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"the secret is not base64: {exc}") from exc
    if not key:
        raise SignatureError("the secret is empty")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<signature>`` entry for ``body`` as sent (the exact bytes, never re-serialized)."""
    content = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()
    return f"{VERSION},{base64.b64encode(mac).decode()}"


def headers(secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a delivery, signed with every secret in ``secrets`` (newest first)."""
    if not secrets:
        raise SignatureError("no secret to sign with")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, message_id, timestamp, body) for s in secrets),
        "content-type": "application/json",
    }


def verify(secret: str, received: Mapping[str, str], body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the timestamp within ``tolerance`` of ``now`` and any ``v1`` entry
    matching (in constant time). For the docs' example receiver and the tests."""
    lowered = {k.lower(): v for k, v in received.items()}
    message_id, stamp, signatures = (lowered.get(k) for k in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (message_id and stamp and signatures) or not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    expected = sign(secret, message_id, int(stamp), body).encode()
    candidates = [s for s in signatures.split(" ") if s.startswith(f"{VERSION},")]
    return any(hmac.compare_digest(expected, c.encode()) for c in candidates)
