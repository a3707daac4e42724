"""Signing helpers for tests and simulators: the same primitives platforms use."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from hub.contracts import Headers, Inbound


def hmac_sha256(secret: str | bytes, message: bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).digest()


def hmac_base64(secret: str | bytes, message: bytes) -> str:
    """base64(HMAC-SHA256): Shopify, WooCommerce, Square (over URL + body)."""
    return base64.b64encode(hmac_sha256(secret, message)).decode()


def hmac_hex(secret: str | bytes, message: bytes) -> str:
    """hex(HMAC-SHA256): Shopify OAuth query strings, Stripe ``v1=``."""
    return hmac_sha256(secret, message).hex()


def inbound(
    body: bytes,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
    url: str = "",
    query: Mapping[str, str] | None = None,
) -> Inbound:
    """An ``Inbound`` as the web layer would build it from a request."""
    all_headers = {"Content-Type": content_type, **(headers or {})}
    return Inbound(headers=Headers(all_headers), body=body, content_type=content_type, url=url, query=dict(query or {}))
