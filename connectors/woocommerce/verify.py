"""Authenticity of WooCommerce deliveries: per-store webhook secrets, the creation ping, dedupe keys.

WooCommerce signs ``base64(HMAC-SHA256(raw body, secret))`` per webhook (``class-wc-webhook.php``),
names the sending site in the unsigned ``X-WC-Webhook-Source`` (``home_url('/')``), carries no
stable event id, and sends an unsigned form-encoded ping (``webhook_id=N``) when a webhook is
created. The store id in the hub is the site's home URL normalized by ``store_id_for``.

The ping is unsigned, so anyone can send one, with any ``webhook_id``. It is acknowledged (200,
``ack_only``) but only a ping of a subscription the hub itself created gets a dedupe key of its
own, so only those are stored one by one: a webhook id the hub recorded for that store
(``KNOWN_WEBHOOKS``, written by ``subscriptions.ensure_webhooks``), or, while the hub is creating
webhooks on that store (``CREATING_WEBHOOKS``, a state with a ttl: WooCommerce's REST
``create_item`` sends the ping before it answers with the new id), one of ``PING_SLOTS`` keys.
Every other ping of a store shares one key, so the hub keeps the first and counts the rest as
duplicates: at most ``PING_SLOTS + MAX_KNOWN_WEBHOOKS + 1`` stored pings per store, whatever
arrives.

Nothing a request carries makes ``verify`` raise anything but ``SignatureInvalid`` or
``UnsupportedMediaType``: a source header that is no URL names no store, and a signed body that is
not the JSON WooCommerce sends gets a digest for its dedupe key (``parse`` refuses it later).
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
from hub.errors import UNREADABLE, SignatureInvalid, UnsupportedMediaType

SIGNATURE = "X-WC-Webhook-Signature"
SOURCE = "X-WC-Webhook-Source"
TOPIC = "X-WC-Webhook-Topic"
DELIVERY_ID = "X-WC-Webhook-Delivery-ID"
PING_TOPIC = "ping"
UNKNOWN_STORE = "unknown"  # a ping whose delivery URL names no installed store
REFUND_CREATED = "action.woocommerce_refund_created"
KNOWN_WEBHOOKS = "webhook_ids"  # store state: JSON list of the ids of the hub's webhooks on the store
CREATING_WEBHOOKS = "webhooks_creating"  # store state with a ttl: the hub is creating webhooks there now
MAX_KNOWN_WEBHOOKS = 16
PING_SLOTS = 8
MAX_STORE_ID = 2048  # longer "store" names are no store id the hub could have

_PING = re.compile(rb"webhook_id=(\d{1,20})")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# ``generate_signature`` signs with ``wp_specialchars_decode($secret, ENT_QUOTES)``: WordPress
# first drops the zero padding of the numeric entities it knows (``/&#0*39;/`` → ``&#039;``,
# ``/&#x0*27;/i`` → ``&#x27;``, likewise 34/x22, 60, 62, 38/x26), then replaces its table in
# one pass (``strtr``: a decoded ``&`` never starts another entity). Nothing else is decoded.
_WP_PADDED = re.compile(r"&#(?:0*(39|34|60|62|38)|[xX]0*(27|22|26));")
_WP_ENTITIES = {
    "&#039;": "'",
    "&#x27;": "'",
    "&quot;": '"',
    "&#034;": '"',
    "&#x22;": '"',
    "&lt;": "<",
    "&#060;": "<",
    "&gt;": ">",
    "&#062;": ">",
    "&amp;": "&",
    "&#038;": "&",
    "&#x26;": "&",
}
_WP_TABLE = re.compile("|".join(re.escape(entity) for entity in _WP_ENTITIES))


def store_id_for(url: str) -> str:
    """A store's id: its home URL with lower-case scheme and host, no default port, no trailing
    slash, no query — ``https://Shop.example:443/`` and ``https://shop.example`` are one store;
    a WordPress in a sub-folder keeps its path (``https://example.com/shop``). ``ValueError`` for
    what is no URL (a port out of range, a broken IPv6 literal)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port and parts.port != _DEFAULT_PORTS.get(scheme) else ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}{port}{parts.path.rstrip('/')}"


def wp_specialchars_decode(text: str) -> str:
    """WordPress's ``wp_specialchars_decode($text, ENT_QUOTES)`` (``formatting.php``)."""
    if "&" not in text:
        return text
    text = _WP_PADDED.sub(lambda m: f"&#0{m[1]};" if m[1] else f"&#x{m[2]};", text)
    return _WP_TABLE.sub(lambda m: _WP_ENTITIES[m[0]], text)


def signature(body: bytes, secret: str) -> str:
    """``base64(HMAC-SHA256(body, wp_specialchars_decode(secret)))``, as WooCommerce signs."""
    key = wp_specialchars_decode(secret).encode("utf-8", "surrogatepass")
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def signed_by(body: bytes, header: str, secrets: Iterable[str]) -> bool:
    """Constant-time check against every current secret (the previous one during a rotation)."""
    given = header.strip().encode("utf-8", "surrogatepass")
    matches = [hmac.compare_digest(signature(body, s).encode(), given) for s in secrets if s]
    return any(matches)


def verify(inbound: Inbound, stores: StoreDirectory) -> Verified:
    header = inbound.headers.get(SIGNATURE, "")
    if not header:
        ping = _PING.fullmatch(inbound.body.strip())
        if ping is None:
            raise SignatureInvalid(f"missing {SIGNATURE}")
        return _ping(inbound, stores, ping.group(1).decode())
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


def known_webhooks(stores: StoreDirectory, store_id: str) -> list[str]:
    """The ids of the webhooks the hub created or found as its own on the store (newest last)."""
    try:
        found = json.loads(stores.get_state(store_id, KNOWN_WEBHOOKS) or "[]")
    except ValueError:
        return []
    if not isinstance(found, list):
        return []
    return [str(i) for i in found if isinstance(i, (int, str))][-MAX_KNOWN_WEBHOOKS:]


def _ping(inbound: Inbound, stores: StoreDirectory, webhook_id: str) -> Verified:
    """The creation ping: acknowledged; stored one by one only for the hub's own subscriptions."""
    store_id = _ping_store(inbound, stores)
    key = f"ping|{store_id}|unmatched"
    if store_id != UNKNOWN_STORE:
        if webhook_id in known_webhooks(stores, store_id):
            key = f"ping|{store_id}|{int(webhook_id)}"
        elif stores.get_state(store_id, CREATING_WEBHOOKS):
            key = f"ping|{store_id}|creating:{int(webhook_id) % PING_SLOTS}"
    return Verified(store_id=store_id, topic=PING_TOPIC, dedupe_key=key, ack_only=True)


def dedupe_key(store_id: str, topic: str, body: bytes, headers: Mapping[str, str]) -> str:
    """What makes two deliveries the same event (WooCommerce has no stable event id).

    Order bodies are built at send time and merged within 10 minutes, so the key is the order,
    its ``date_modified_gmt`` and the refund ids it lists. Action bodies carry only the hook's
    first argument: a refund id is unique; an order id repeats for every later refund of that
    order, so the per-second delivery id is added (WooCommerce never re-sends a delivery).
    """
    digest = f"{store_id}|{topic}|sha256:{hashlib.sha256(body).hexdigest()}"
    try:
        key = _content_key(store_id, topic, json.loads(body), headers) or digest
        key.encode("utf-8")  # a lone surrogate (``"\\ud800"``) is no key the hub can store as such
    except UNREADABLE:  # authentic, but not the JSON WooCommerce sends: parse will say so
        return digest
    return key


def _content_key(store_id: str, topic: str, data: Any, headers: Mapping[str, str]) -> str | None:
    if isinstance(data, dict) and "action" in data:
        arg = json.dumps(data.get("arg"), sort_keys=True)
        if topic == REFUND_CREATED:
            return f"{store_id}|{topic}|{arg}"
        return f"{store_id}|{topic}|{arg}|{headers.get(DELIVERY_ID, '')}"
    if isinstance(data, dict) and "id" in data:
        listed = data.get("refunds") or ()
        refunds = ",".join(sorted(str(r.get("id")) for r in listed if isinstance(r, dict)))
        return f"{store_id}|{topic}|{data['id']}|{data.get('date_modified_gmt') or ''}|{refunds}"
    return None


def _media_type(inbound: Inbound) -> str:
    raw = inbound.content_type or inbound.headers.get("Content-Type", "")
    return raw.split(";", 1)[0].strip().lower()


def _store_of(inbound: Inbound, stores: StoreDirectory) -> StoreContext | None:
    """The store named by ``X-WC-Webhook-Source``, else by the ``store`` query parameter the hub
    puts in its delivery URLs (a site whose home URL changed after install). Neither is signed:
    only that store's secret can make the signature match."""
    source = inbound.headers.get(SOURCE, "")
    for candidate in (_source_store(source), inbound.query.get("store", "")):
        store = stores.get(candidate) if _plausible(candidate) else None
        if store is not None:
            return store
    return None


def _source_store(source: str) -> str:
    try:
        return store_id_for(source) if source else ""
    except ValueError:  # no URL at all: it names no store
        return ""


def _plausible(store_id: str) -> bool:
    """Worth a look-up: what the hub's store ids look like, and text any database can take."""
    if not store_id or len(store_id) > MAX_STORE_ID or not store_id.startswith(("https://", "http://")):
        return False
    try:
        store_id.encode("utf-8")
    except UnicodeError:
        return False
    return True


def _ping_store(inbound: Inbound, stores: StoreDirectory) -> str:
    named = inbound.query.get("store", "")
    return named if _plausible(named) and stores.get(named) is not None else UNKNOWN_STORE
