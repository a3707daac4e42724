"""Authenticity of what Adobe Commerce pushes to ``POST /webhooks/magento``: signature, store, topic, dedupe key.

Two channels share the URL and are told apart by their signature headers:

- **Adobe I/O Events** (``x-adobe-digital-signature-1/2``): a CloudEvents envelope whose
  ``data.value`` is the saved entity. The store is the one whose settings name the event provider
  (``io_events_provider_id``, the ``urn:uuid:`` in ``source``) or, failing that, the registration's
  client id (``io_events_client_id`` = ``recipient_client_id``, also checked when set). Dedupe key:
  the CloudEvents ``event_id`` (``id`` as fallback).
- **Adobe Commerce Webhooks** (``x-adobe-commerce-webhook-signature``): the hook's own payload
  (default ``{"eventName": ..., "data": {"<object>": {...}}}``). The hook must be configured with
  the header ``x-refund-hub-store: <store id>`` (or the URL with ``?store=<store id>``), and may
  name its topic with ``x-refund-hub-topic``. Dedupe key: a hash of the body (no event id exists).

The signatures are RSA checks, always on the raw bytes, before any parsing:

- Adobe I/O Events: ``x-adobe-digital-signature-1`` and ``-2`` are base64 RSA-SHA256 (PKCS#1 v1.5)
  signatures of the raw body, made with two key pairs so Adobe can rotate one; either valid
  signature suffices (Adobe's ``verifySignature`` in ``aio-lib-events``). The public keys are
  configured PEMs, or fetched from ``static.adobeioevents.com`` + ``x-adobe-public-key{1,2}-path``.
- Adobe Commerce Webhooks: ``x-adobe-commerce-webhook-signature`` is a base64 RSA-SHA256 signature
  of the **base64-encoded** body, checked with the public key from the webhooks configuration.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hub.contracts import Headers, Inbound, StoreContext, StoreDirectory, Verified
from hub.errors import MalformedBody, SignatureInvalid

IO_SIGNATURES = ("x-adobe-digital-signature-1", "x-adobe-digital-signature-2")
IO_KEY_PATHS = ("x-adobe-public-key1-path", "x-adobe-public-key2-path")
WEBHOOK_SIGNATURE = "x-adobe-commerce-webhook-signature"
ADOBE_KEY_HOST = "https://static.adobeioevents.com"
KEY_PATH = re.compile(r"^/[A-Za-z0-9_\-/]+\.pem$")
STORE_HEADER = "x-refund-hub-store"
TOPIC_HEADER = "x-refund-hub-topic"
EVENT_NAME = re.compile(r"(?:observer|plugin)\.[A-Za-z0-9_.]+$")


def pem_list(value: Any) -> list[str]:
    """A setting holding one PEM string or a list of them."""
    if not value:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


@functools.lru_cache(maxsize=64)
def public_key(pem: str) -> rsa.RSAPublicKey | None:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


def rsa_valid(pem: str, signature: str, message: bytes) -> bool:
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


class KeyFetcher:
    """Adobe's I/O Events public keys by the paths the delivery names, cached per path.

    Only ``static.adobeioevents.com`` is ever asked; ``base_url`` may point elsewhere (a simulator)
    only in test mode, which the caller decides. Paths are checked before use, so a forged header
    cannot steer the request.
    """

    def __init__(self, base_url: str = ADOBE_KEY_HOST, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def keys(self, headers: Headers) -> list[str]:
        pems = []
        for name in IO_KEY_PATHS:
            path = (headers.get(name) or "").strip()
            if KEY_PATH.match(path) and ".." not in path:
                pem = self._get(path)
                if pem:
                    pems.append(pem)
        return pems

    def _get(self, path: str) -> str | None:
        with self._lock:
            if path in self._cache:
                return self._cache[path]
        try:
            response = requests.get(f"{self.base_url}{path}", timeout=self.timeout, allow_redirects=False)
        except requests.RequestException:
            return None
        if response.status_code != 200 or public_key(response.text.strip()) is None:
            return None
        with self._lock:
            self._cache[path] = response.text.strip()
        return self._cache[path]


_FETCHERS: dict[str, KeyFetcher] = {}
_FETCHERS_LOCK = threading.Lock()


def fetcher_for(settings: Mapping[str, Any]) -> KeyFetcher | None:
    """The (process-wide, caching) key fetcher when ``io_events_fetch_keys`` is on.

    A host other than Adobe's is used only in ``test_mode`` (``io_events_key_host``, a simulator).
    """
    if not settings.get("io_events_fetch_keys"):
        return None
    base = ADOBE_KEY_HOST
    if settings.get("test_mode") and settings.get("io_events_key_host"):
        base = str(settings["io_events_key_host"]).rstrip("/")
    with _FETCHERS_LOCK:
        return _FETCHERS.setdefault(base, KeyFetcher(base))


def event_topic(event_type: Any) -> str:
    """``com.adobe.commerce.observer.rma_save_after`` -> ``observer.rma_save_after``."""
    found = EVENT_NAME.search(str(event_type or ""))
    return found.group(0) if found else str(event_type or "unknown")


def json_object(body: bytes, error: type[Exception]) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise error("body is not JSON") from None
    if not isinstance(data, dict):
        raise error("body is not a JSON object")
    return data


def verify(settings: Mapping[str, Any], stores: StoreDirectory, inbound: Inbound) -> Verified:
    if WEBHOOK_SIGNATURE in inbound.headers:
        return _verify_webhook(stores, inbound)
    if io_signatures(inbound.headers):
        return _verify_io_event(settings, stores, inbound)
    raise SignatureInvalid("no Adobe signature header")


def _verify_io_event(settings: Mapping[str, Any], stores: StoreDirectory, inbound: Inbound) -> Verified:
    fetcher = fetcher_for(settings)
    shared = pem_list(settings.get("io_events_public_keys"))
    shared += fetcher.keys(inbound.headers) if fetcher else []
    own = {store.id: pem_list(store.settings.get("io_events_public_keys")) for store in stores.all()}
    candidates = dict.fromkeys(shared + [pem for pems in own.values() for pem in pems])
    signer = matching_key(candidates, io_signatures(inbound.headers), inbound.body)
    if signer is None:
        raise SignatureInvalid("no I/O Events signature verifies with the configured keys")
    envelope = json_object(inbound.body, MalformedBody)
    store = _io_store(stores, envelope)
    if signer not in shared and signer not in own.get(store.id, []):
        raise SignatureInvalid("signed with a key of another store")
    expected = store.settings.get("io_events_client_id")
    recipient = envelope.get("recipient_client_id") or envelope.get("recipientclientid")
    if expected and recipient != expected:
        raise SignatureInvalid("recipient_client_id is not this store's registration")
    event_id = envelope.get("event_id") or envelope.get("eventid") or envelope.get("id")
    if not event_id:
        raise MalformedBody("CloudEvent without id")
    return Verified(store_id=store.id, topic=event_topic(envelope.get("type")), dedupe_key=f"io:{event_id}")


def _io_store(stores: StoreDirectory, envelope: Mapping[str, Any]) -> StoreContext:
    provider = str(envelope.get("source") or "").removeprefix("urn:uuid:")
    recipient = envelope.get("recipient_client_id") or envelope.get("recipientclientid")
    every = stores.all()
    by_provider = [s for s in every if provider and s.settings.get("io_events_provider_id") == provider]
    if by_provider:
        return by_provider[0]
    by_client = [s for s in every if recipient and s.settings.get("io_events_client_id") == recipient]
    if len(by_client) == 1:
        return by_client[0]
    if by_client:
        raise MalformedBody("several stores share this I/O Events registration; set io_events_provider_id")
    raise MalformedBody("no store is configured for this I/O Events provider or registration")


def _verify_webhook(stores: StoreDirectory, inbound: Inbound) -> Verified:
    store_id = inbound.headers.get(STORE_HEADER) or inbound.query.get("store")
    store = stores.get(store_id) if store_id else None
    if store is None:
        raise SignatureInvalid("Commerce webhook for an unknown store")
    pems = pem_list(store.settings.get("webhook_public_keys"))
    if webhook_key(pems, inbound.headers, inbound.body) is None:
        raise SignatureInvalid("Commerce webhook signature does not verify")
    body = json_object(inbound.body, MalformedBody)
    topic = inbound.headers.get(TOPIC_HEADER) or body.get("eventName") or "commerce_webhook"
    digest = hashlib.sha256(inbound.body).hexdigest()
    return Verified(store_id=store.id, topic=str(topic), dedupe_key=f"cw:{store.id}:{digest}")
