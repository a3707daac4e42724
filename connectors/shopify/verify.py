"""Authenticity of a Shopify delivery: HMAC check on the raw bytes, shop, topic and dedupe key.

The signature is ``base64(HMAC-SHA256(client secret, raw body))``, checked here on the raw bytes
before anything reads the body (the current secret, then the previous one during a rotation). The
``shopify_app`` package's ``verify_webhook_req`` is not used: it ``json.loads`` the body for its log
before it compares the HMAC, so an unsigned, deeply nested or 5 000-digit body raised
``RecursionError``/``ValueError`` out of it.

Header names are case-insensitive and come in two spellings (``X-Shopify-Topic`` from classic
webhooks, ``shopify-topic`` from Shopify Events). Only the body is signed: the topic and
shop-domain headers are not, so a delivery is trusted only for what its body proves — ``parse``
binds the topic to the body's shape and the shop to the shop the body names, and ``fetch`` re-reads
everything else with the store's own token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from connectors.shopify.settings import AppSettings, is_shop_domain
from hub.contracts import Headers, Inbound, Verified
from hub.errors import MalformedBody, SignatureInvalid, UnsupportedMediaType


def header(headers: Headers | Mapping[str, str], name: str) -> str | None:
    """``name`` without prefix, e.g. ``topic``: tries ``X-Shopify-Topic`` then ``shopify-topic``."""
    for prefix in ("x-shopify-", "shopify-"):
        value = headers.get(prefix + name)
        if value:
            return value.strip()
    return None


def signed(app: AppSettings, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is the body's base64 HMAC-SHA256 under the current or previous secret
    (compared in constant time; nothing of the body is read)."""
    given = signature.encode("ascii")
    for secret in (app.api_secret, app.previous_api_secret):
        if secret:
            expected = base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest())
            if hmac.compare_digest(expected, given):
                return True
    return False


def verify(app: AppSettings, inbound: Inbound) -> Verified:
    media = inbound.content_type.split(";", 1)[0].strip().lower()
    if media and media != "application/json":
        raise UnsupportedMediaType(f"Shopify webhooks are application/json, not {media}")
    signature = header(inbound.headers, "hmac-sha256")
    if not signature or not signature.isascii():
        raise SignatureInvalid("missing or unreadable X-Shopify-Hmac-Sha256")
    if not signed(app, inbound.body, signature):
        raise SignatureInvalid("X-Shopify-Hmac-Sha256 does not match the body")
    try:
        inbound.body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureInvalid("body is not the UTF-8 JSON Shopify signs") from None
    topic = header(inbound.headers, "topic")
    shop = (header(inbound.headers, "shop-domain") or "").lower()
    if not topic or len(topic) > 100 or not topic.isascii() or not topic.isprintable():
        raise MalformedBody("missing or unreadable X-Shopify-Topic")
    if not is_shop_domain(shop):
        raise MalformedBody(f"X-Shopify-Shop-Domain {shop[:120]!r} is not a *.myshopify.com domain")
    return Verified(store_id=shop, topic=topic, dedupe_key=dedupe_key(shop, topic, inbound))


def dedupe_key(shop: str, topic: str, inbound: Inbound) -> str:
    """One merchant action is one event id across subscriptions and retries; fall back to the
    per-delivery webhook id, then to the body itself."""
    event_id = header(inbound.headers, "event-id")
    if event_id:
        return f"{shop}:{topic}:event:{event_id}"
    webhook_id = header(inbound.headers, "webhook-id")
    if webhook_id:
        return f"{shop}:{topic}:webhook:{webhook_id}"
    return f"{shop}:{topic}:sha256:{hashlib.sha256(inbound.body).hexdigest()}"
