"""The ``Stripe-Signature`` header the Stripe simulator signs its webhook events with."""

from __future__ import annotations

import time
from collections.abc import Sequence

from hub.testing.signing import hmac_hex


def signature_header(body: bytes, signing_secrets: Sequence[str], timestamp: int | None = None) -> str:
    """``Stripe-Signature``: one ``v1`` per active secret (Stripe signs with both while rolling)."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + body
    return ",".join([f"t={t}", *(f"v1={hmac_hex(s, signed)}" for s in signing_secrets)])
