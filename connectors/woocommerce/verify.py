"""Authenticity of WooCommerce deliveries: per-store webhook secrets, the creation ping, dedupe keys.

WooCommerce signs ``base64(HMAC-SHA256(raw body, secret))`` per webhook (``class-wc-webhook.php``),
names the sending site in the unsigned ``X-WC-Webhook-Source`` (``home_url('/')``), carries no
stable event id, and sends an unsigned form-encoded ping (``webhook_id=N``) when a webhook is
created. The store id in the hub is the site's home URL normalized by ``store_id_for``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from hub.contracts import Inbound, StoreContext, StoreDirectory, Verified
from hub.errors import SignatureInvalid, UnsupportedMediaType

SIGNATURE = "X-WC-Webhook-Signature"
SOURCE = "X-WC-Webhook-Source"
TOPIC = "X-WC-Webhook-Topic"
DELIVERY_ID = "X-WC-Webhook-Delivery-ID"
PING_TOPIC = "ping"
UNKNOWN_STORE = "unknown"  # a ping whose delivery URL names no installed store
REFUND_CREATED = "action.woocommerce_refund_created"

_PING = re.compile(rb"webhook_id=(\d{1,20})")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# wp_specialchars_decode($secret, ENT_QUOTES) runs on the secret before signing
_WP_ENTITIES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&#039;": "'", "&#x27;": "'", "&amp;": "&"}


def store_id_for(url: str) -> str:
    """A store's id: its home URL with lower-case scheme and host, no default port, no trailing
    slash, no query — ``https://Shop.example:443/`` and ``https://shop.example`` are one store;
    a WordPress in a sub-folder keeps its path (``https://example.com/shop``)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port and parts.port != _DEFAULT_PORTS.get(scheme) else ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}{port}{parts.path.rstrip('/')}"


def signature(body: bytes, secret: str) -> str:
    for entity, char in _WP_ENTITIES.items():
        secret = secret.replace(entity, char)
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed_by(body: bytes, header: str, secrets: Iterable[str]) -> bool:
    """Constant-time check against every current secret (the previous one during a rotation)."""
    given = header.strip().encode()
    matches = [hmac.compare_digest(signature(body, s).encode(), given) for s in secrets if s]
    return any(matches)


def verify(inbound: Inbound, stores: StoreDirectory) -> Verified:
    header = inbound.headers.get(SIGNATURE, "")
    if not header:
        ping = _PING.fullmatch(inbound.body.strip())
        if ping is None:
            raise SignatureInvalid(f"missing {SIGNATURE}")
        store_id = _ping_store(inbound, stores)
        return Verified(
            store_id=store_id, topic=PING_TOPIC, dedupe_key=f"ping|{store_id}|{ping.group(1).decode()}", ack_only=True
        )
    if _media_type(inbound) not in ("application/json", ""):
        raise UnsupportedMediaType(f"WooCommerce webhooks are JSON, got {inbound.content_type!r}")
    store = _store_of(inbound, stores)
    if store is None:
        raise SignatureInvalid("no installed store matches X-WC-Webhook-Source")
    secrets = (store.credentials.get("webhook_secret", ""), store.credentials.get("previous_webhook_secret", ""))
    if not signed_by(inbound.body, header, secrets):
        raise SignatureInvalid("X-WC-Webhook-Signature does not match the body")
    topic = inbound.headers.get(TOPIC, "").strip().lower() or "unknown"
    return Verified(
        store_id=store.id, topic=topic, dedupe_key=dedupe_key(store.id, topic, inbound.body, inbound.headers)
    )


def dedupe_key(store_id: str, topic: str, body: bytes, headers: Mapping[str, str]) -> str:
    """What makes two deliveries the same event (WooCommerce has no stable event id).

    Order bodies are built at send time and merged within 10 minutes, so the key is the order,
    its ``date_modified_gmt`` and the refund ids it lists. Action bodies carry only the hook's
    first argument: a refund id is unique; an order id repeats for every later refund of that
    order, so the per-second delivery id is added (WooCommerce never re-sends a delivery).
    """
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and "action" in data:
        arg = json.dumps(data.get("arg"), sort_keys=True)
        if topic == REFUND_CREATED:
            return f"{store_id}|{topic}|{arg}"
        return f"{store_id}|{topic}|{arg}|{headers.get(DELIVERY_ID, '')}"
    if isinstance(data, dict) and "id" in data:
        refunds = ",".join(sorted(str(r.get("id")) for r in data.get("refunds") or () if isinstance(r, dict)))
        return f"{store_id}|{topic}|{data['id']}|{data.get('date_modified_gmt') or ''}|{refunds}"
    return f"{store_id}|{topic}|sha256:{hashlib.sha256(body).hexdigest()}"


def _media_type(inbound: Inbound) -> str:
    raw = inbound.content_type or inbound.headers.get("Content-Type", "")
    return raw.split(";", 1)[0].strip().lower()


def _store_of(inbound: Inbound, stores: StoreDirectory) -> StoreContext | None:
    """The store named by ``X-WC-Webhook-Source``, else by the ``store`` query parameter the hub
    puts in its delivery URLs (a site whose home URL changed after install). Neither is signed:
    only that store's secret can make the signature match."""
    source = inbound.headers.get(SOURCE, "")
    for candidate in (store_id_for(source) if source else "", inbound.query.get("store", "")):
        store = stores.get(candidate) if candidate else None
        if store is not None:
            return store
    return None


def _ping_store(inbound: Inbound, stores: StoreDirectory) -> str:
    named = inbound.query.get("store", "")
    return named if named and stores.get(named) is not None else UNKNOWN_STORE
