"""Adobe I/O Events' public signing keys, fetched from Adobe and cached.

Adobe signs each delivery twice (``x-adobe-digital-signature-1/2``, RSA-SHA256 over the raw body)
with two key pairs and names the public keys' paths (``x-adobe-public-key1-path``/``2-path``) on its
fixed host ``static.adobeioevents.com`` (developer.adobe.com/events/docs/guides/sdk/
sdk-signature-verification; ``aio-lib-events`` ``signatureUtils.js``). Keys rotate: a new key comes
at a new path, so a pasted PEM goes stale while a fetched one follows along. Only Adobe's host is
asked (another only in test mode, for a simulator), only paths of Adobe's shape, without
redirects. A key is kept a day (as ``aio-lib-events`` does); a path that gave none, a minute; at
most ``max_misses`` uncached paths are asked for a minute, so forged deliveries cannot make every
request fetch. When no cached key verifies, ``keys(..., refresh=True)`` asks again for the paths
cached longer than ``refresh_after`` (a key replaced in place), within the same budget.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.contracts import Headers

if TYPE_CHECKING:  # imported on first use: a web worker that never checks a Magento key does without them
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

ADOBE_KEY_HOST = "https://static.adobeioevents.com"
IO_KEY_PATHS = ("x-adobe-public-key1-path", "x-adobe-public-key2-path")
# Adobe's key paths look like /prod/keys/pub-key-<uuid>.pem (aio-lib-events, signatureUtils.js)
KEY_PATH = re.compile(r"^/[a-z]+/keys/pub-key-[A-Za-z0-9-]{1,64}\.pem$")


@functools.lru_cache(maxsize=64)
def public_key(pem: str) -> RSAPublicKey | None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, UnicodeError):
        return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


class KeyFetcher:
    """The keys a delivery's headers name, by path, from ``base_url`` (Adobe's host)."""

    def __init__(
        self,
        base_url: str = ADOBE_KEY_HOST,
        timeout: float = 5.0,
        *,
        ttl: float = 86400.0,
        miss_ttl: float = 60.0,
        refresh_after: float = 60.0,
        max_entries: int = 256,
        max_misses: int = 30,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.ttl, self.miss_ttl, self.refresh_after = ttl, miss_ttl, refresh_after
        self.max_entries, self.max_misses = max_entries, max_misses
        self._cache: dict[str, tuple[str | None, float, float]] = {}  # path -> (PEM or None, fetched, expiry)
        self._asked: deque[float] = deque()  # when paths were fetched, for the limit
        self._lock = threading.Lock()

    def keys(self, headers: Headers, *, refresh: bool = False) -> list[str]:
        pems = []
        for name in IO_KEY_PATHS:
            path = (headers.get(name) or "").strip()
            if KEY_PATH.match(path):
                pem = self._get(path, refresh)
                if pem:
                    pems.append(pem)
        return pems

    def _get(self, path: str, refresh: bool) -> str | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(path)
            stale = cached is not None and refresh and cached[1] < now - self.refresh_after
            if cached is not None and cached[2] > now and not stale:
                return cached[0]
            while self._asked and self._asked[0] < now - 60.0:
                self._asked.popleft()
            if len(self._asked) >= self.max_misses:
                return cached[0] if cached is not None and cached[2] > now else None
            self._asked.append(now)
        pem = self._fetch(path)
        with self._lock:
            self._cache.pop(path, None)
            while len(self._cache) >= self.max_entries:
                self._cache.pop(next(iter(self._cache)))
            self._cache[path] = (pem, now, now + (self.ttl if pem else self.miss_ttl))
        return pem

    def _fetch(self, path: str) -> str | None:
        import requests

        try:
            response = requests.get(f"{self.base_url}{path}", timeout=self.timeout, allow_redirects=False)
        except requests.RequestException:
            return None
        text = response.text.strip()
        return text if response.status_code == 200 and public_key(text) is not None else None


_FETCHERS: dict[str, KeyFetcher] = {}
_FETCHERS_LOCK = threading.Lock()


def fetcher_for(settings: Mapping[str, Any]) -> KeyFetcher | None:
    """The (process-wide, caching) key fetcher, unless ``io_events_fetch_keys`` is false.

    A host other than Adobe's is used only in ``test_mode`` (``io_events_key_host``, a simulator).
    """
    if not settings.get("io_events_fetch_keys", True):
        return None
    base = ADOBE_KEY_HOST
    if settings.get("test_mode") and settings.get("io_events_key_host"):
        base = str(settings["io_events_key_host"]).rstrip("/")
    with _FETCHERS_LOCK:
        return _FETCHERS.setdefault(base, KeyFetcher(base))
