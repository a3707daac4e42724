"""Authenticity of a Shopify delivery: HMAC check on the raw bytes, shop, topic and dedupe key.

Header names are case-insensitive and come in two spellings (``X-Shopify-Topic`` from classic
webhooks, ``shopify-topic`` from Shopify Events). The shop-domain header is NOT covered by the
signature, so the store id it names is only trusted after ``fetch`` re-reads the data with that
store's own token; where the signed body names its shop (compliance topics, app/uninstalled),
the two must agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from shopify_app import verify_webhook_req

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


def verify(app: AppSettings, inbound: Inbound) -> Verified:
    media = inbound.content_type.split(";", 1)[0].strip().lower()
    if media and media != "application/json":
        raise UnsupportedMediaType(f"Shopify webhooks are application/json, not {media}")
    signature = header(inbound.headers, "hmac-sha256")
    if not signature or not signature.isascii():
        raise SignatureInvalid("missing or unreadable X-Shopify-Hmac-Sha256")
    try:
        text = inbound.body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureInvalid("body is not the UTF-8 JSON Shopify signs") from None
    result = verify_webhook_req(
        {"method": "POST", "headers": {"x-shopify-hmac-sha256": signature}, "url": inbound.url, "body": text},
        {"client_id": app.api_key, "client_secret": app.api_secret, "old_client_secret": app.previous_api_secret},
    )
    if not result.ok:
        raise SignatureInvalid("X-Shopify-Hmac-Sha256 does not match the body")
    topic = header(inbound.headers, "topic")
    shop = (header(inbound.headers, "shop-domain") or "").lower()
    if not topic:
        raise MalformedBody("missing X-Shopify-Topic")
    if not is_shop_domain(shop):
        raise MalformedBody(f"X-Shopify-Shop-Domain {shop!r} is not a *.myshopify.com domain")
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
