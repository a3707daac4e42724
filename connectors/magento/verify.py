"""RSA checks for Adobe's two push channels, always on the raw bytes, before any parsing.

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
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hub.contracts import Headers

IO_SIGNATURES = ("x-adobe-digital-signature-1", "x-adobe-digital-signature-2")
IO_KEY_PATHS = ("x-adobe-public-key1-path", "x-adobe-public-key2-path")
WEBHOOK_SIGNATURE = "x-adobe-commerce-webhook-signature"
ADOBE_KEY_HOST = "https://static.adobeioevents.com"
KEY_PATH = re.compile(r"^/[A-Za-z0-9_\-/]+\.pem$")


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
