"""Authenticity of what Adobe Commerce pushes to ``POST /webhooks/magento``: signature, store, topic, dedupe key.

Two channels share the URL and are told apart by their signature headers:

- **Adobe I/O Events** (``x-adobe-digital-signature-1/2``): a CloudEvents envelope whose
  ``data.value`` is the saved entity. The store is the one whose settings name the event provider
  (``io_events_provider_id``, the ``urn:uuid:`` in ``source``) or, failing that, the registration's
  client id (``io_events_client_id`` = ``recipient_client_id``), found by key (``index``), never by
  reading every store. ``recipient_client_id`` must be the store's (or the connector's)
  ``io_events_client_id`` when one is set. Dedupe key: the CloudEvents ``event_id`` (``id`` as
  fallback); event ids are global, the hub deduplicates them per store.
- **Adobe Commerce Webhooks** (``x-adobe-commerce-webhook-signature``): the hook's own payload
  (default ``{"eventName": ..., "data": {"<object>": {...}}}``). The hook must be configured with
  the header ``x-refund-hub-store: <store id>`` (or the URL with ``?store=<store id>``), and may
  name its topic with ``x-refund-hub-topic``. Dedupe key: a hash of the body (no event id exists).

The signatures are RSA checks on the raw bytes, before any parsing (an I/O event that only a
store's own keys can verify is parsed first to find that store):

- Adobe I/O Events: ``x-adobe-digital-signature-1`` and ``-2`` are base64 RSA-SHA256 (PKCS#1 v1.5)
  signatures of the raw body, made with two key pairs so Adobe can rotate one; either valid
  signature suffices (Adobe's ``verifySignature`` in ``aio-lib-events``). The public keys are the
  configured PEMs and, by default (``io_events_fetch_keys``), Adobe's own, fetched from
  ``static.adobeioevents.com`` + ``x-adobe-public-key{1,2}-path`` and cached (``keys``: Adobe
  rotates its keys, so pasted ones go stale). A store's own ``io_events_public_keys`` vouch for
  that store only.
- Adobe Commerce Webhooks: ``x-adobe-commerce-webhook-signature`` is a base64 RSA-SHA256 signature
  of the **base64-encoded** body, checked with the public key from the webhooks configuration.

Whatever a body holds (deep nesting, numbers too long to read, lone surrogates, wrong types) ends
as ``SignatureInvalid`` or ``MalformedBody``, never as another exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from connectors.magento import index
from connectors.magento.keys import fetcher_for, public_key
from hub.contracts import Headers, Inbound, StoreContext, StoreDirectory, Verified
from hub.errors import IngestError, MalformedBody, SignatureInvalid

IO_SIGNATURES = ("x-adobe-digital-signature-1", "x-adobe-digital-signature-2")
WEBHOOK_SIGNATURE = "x-adobe-commerce-webhook-signature"
STORE_HEADER = "x-refund-hub-store"
TOPIC_HEADER = "x-refund-hub-topic"
EVENT_NAME = re.compile(r"(?:observer|plugin)\.[A-Za-z0-9_.]+$")
MAX_DEPTH = 64  # Adobe's payloads nest a handful of levels
MAX_ID = 256  # characters of an id the hub keys on (provider, client, event id)
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # how a lone surrogate gets into decoded JSON


def pem_list(value: Any) -> list[str]:
    """A setting holding one PEM string or a list of them."""
    if not value:
        return []
    items = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
    return [str(item).strip() for item in items if str(item).strip()]


def rsa_valid(pem: str, signature: str, message: bytes) -> bool:
    """``cryptography`` is imported by the first Magento signature checked, not by the web worker's start."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key = public_key(pem)
    if key is None or not signature:
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def matching_key(pems: Iterable[str], signatures: Sequence[str], message: bytes) -> str | None:
    """The first PEM under which any of the signatures is valid, or None."""
    for pem in pems:
        if any(rsa_valid(pem, signature, message) for signature in signatures):
            return pem
    return None


def io_signatures(headers: Headers) -> list[str]:
    return [headers[name].strip() for name in IO_SIGNATURES if headers.get(name)]


def webhook_key(pems: Iterable[str], headers: Headers, body: bytes) -> str | None:
    """The Commerce Webhooks key that signed ``base64(body)``, or None."""
    signature = (headers.get(WEBHOOK_SIGNATURE) or "").strip()
    return matching_key(pems, [signature], base64.b64encode(body)) if signature else None


def event_topic(event_type: Any) -> str:
    """``com.adobe.commerce.observer.rma_save_after`` -> ``observer.rma_save_after``."""
    found = EVENT_NAME.search(str(event_type or ""))
    return found.group(0) if found else str(event_type or "unknown")


def json_object(body: bytes, error: type[Exception]) -> dict[str, Any]:
    """The body as a JSON object, or ``error``: for bytes that are not UTF-8 JSON, numbers Python
    will not read (over 4 300 digits), nesting past ``MAX_DEPTH`` and lone surrogates (text no
    database or log can store)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise error("body is not JSON") from None
    if not isinstance(data, dict):
        raise error("body is not a JSON object")
    if not sound(data, body):
        raise error("body nests too deep or holds text that is not Unicode")
    return data


def sound(data: Any, body: bytes | None = None) -> bool:
    """No nesting deeper than ``MAX_DEPTH`` and no string (or key) with a lone surrogate. A body
    decoded as UTF-8 can only hold surrogates through ``\\uD800``-``\\uDFFF`` escapes, so strings
    are only looked at when ``body`` has one."""
    strings = body is None or SURROGATE_ESCAPE.search(body) is not None
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth >= MAX_DEPTH:
            return False
        items = value.values() if isinstance(value, dict) else value
        if strings and not all(_unicode(text) for text in (value if isinstance(value, dict) else ())):
            return False
        for item in items:
            if isinstance(item, dict | list):
                stack.append((item, depth + 1))
            elif strings and isinstance(item, str) and not _unicode(item):
                return False
    return True


def _unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_field(data: Mapping[str, Any], names: Sequence[str], error: type[Exception]) -> str:
    """The first of ``names`` present, as text: a string or an integer of at most ``MAX_ID``
    characters ("" when none is present); anything else is ``error``."""
    for name in names:
        value = data.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > MAX_ID:
            raise error(f"{name} is not an id")
        return str(value)
    return ""


def verify(settings: Mapping[str, Any], stores: StoreDirectory, inbound: Inbound) -> Verified:
    if WEBHOOK_SIGNATURE in inbound.headers:
        return _verify_webhook(stores, inbound)
    if io_signatures(inbound.headers):
        return _verify_io_event(settings, stores, inbound)
    raise SignatureInvalid("no Adobe signature header")


def _verify_io_event(settings: Mapping[str, Any], stores: StoreDirectory, inbound: Inbound) -> Verified:
    signatures = io_signatures(inbound.headers)
    signed = matching_key(pem_list(settings.get("io_events_public_keys")), signatures, inbound.body) is not None
    fetcher = None if signed else fetcher_for(settings)
    if fetcher is not None:
        signed = matching_key(fetcher.keys(inbound.headers), signatures, inbound.body) is not None
        if not signed:  # a key Adobe replaced at the same path: ask again (rate-limited)
            signed = matching_key(fetcher.keys(inbound.headers, refresh=True), signatures, inbound.body) is not None
    # Until a signature verifies, whatever is wrong with the body means "not authentic".
    refuse: type[IngestError] = MalformedBody if signed else SignatureInvalid
    envelope = json_object(inbound.body, refuse)
    provider = text_field(envelope, ("source",), refuse).removeprefix("urn:uuid:")
    recipient = text_field(envelope, ("recipient_client_id", "recipientclientid"), refuse)
    event_id = text_field(envelope, ("event_id", "eventid", "id"), refuse)
    event_type = text_field(envelope, ("type",), refuse)
    store = _io_store(stores, provider, recipient, refuse)
    own = pem_list(store.settings.get("io_events_public_keys"))
    if not signed and matching_key(own, signatures, inbound.body) is None:
        raise SignatureInvalid("no I/O Events signature verifies with the configured keys")
    expected = store.settings.get("io_events_client_id") or settings.get("io_events_client_id")
    if expected and recipient != expected:
        raise SignatureInvalid("recipient_client_id is not this store's registration")
    if not event_id:
        raise MalformedBody("CloudEvent without id")
    return Verified(store_id=store.id, topic=event_topic(event_type), dedupe_key=f"io:{event_id}")


def _io_store(stores: StoreDirectory, provider: str, recipient: str, refuse: type[IngestError]) -> StoreContext:
    """The store the event is for, by provider id, else by registration (when only one store has it)."""
    for attempt in range(2):
        by_provider = index.stores_naming(stores, "provider", provider)
        if by_provider:
            return by_provider[0]
        by_client = index.stores_naming(stores, "client", recipient)
        if len(by_client) == 1:
            return by_client[0]
        if by_client:
            raise refuse("several stores share this I/O Events registration; set io_events_provider_id")
        if attempt or not (provider or recipient) or not index.rebuild(stores):
            break
    raise refuse("no store is configured for this I/O Events provider or registration")


def _verify_webhook(stores: StoreDirectory, inbound: Inbound) -> Verified:
    store_id = inbound.headers.get(STORE_HEADER) or inbound.query.get("store")
    store = stores.get(store_id) if store_id else None
    if store is None:
        raise SignatureInvalid("Commerce webhook for an unknown store")
    pems = pem_list(store.settings.get("webhook_public_keys"))
    if webhook_key(pems, inbound.headers, inbound.body) is None:
        raise SignatureInvalid("Commerce webhook signature does not verify")
    body = json_object(inbound.body, MalformedBody)
    topic = inbound.headers.get(TOPIC_HEADER) or text_field(body, ("eventName",), MalformedBody) or "commerce_webhook"
    digest = hashlib.sha256(inbound.body).hexdigest()
    return Verified(store_id=store.id, topic=topic, dedupe_key=f"cw:{store.id}:{digest}")
