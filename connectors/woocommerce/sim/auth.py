"""How the WooCommerce simulator checks REST credentials, as WooCommerce's REST authentication does.

Accepted: HTTP Basic ``consumer_key:consumer_secret``, query-string ``consumer_key`` and
``consumer_secret``, and one-legged OAuth 1.0a (HMAC-SHA256, what the ``woocommerce`` package
sends over plain http): the base string is ``METHOD&rawurlencode(url)&sorted params`` with each
key and value rawurlencoded then ``%`` escaped again, signed with ``consumer_secret&``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Mapping
from urllib.parse import quote, unquote

from flask import Request

TIMESTAMP_WINDOW = 15 * 60  # seconds WooCommerce tolerates between client and server clocks


class KeyCheck:
    """Consumer keys of one simulated store, with OAuth nonces remembered per key."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self._nonces: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def consumer(self, req: Request) -> str | None:
        """The consumer key the request authenticates with, or None."""
        auth = req.authorization
        if auth is not None and auth.type == "basic" and auth.username:
            return auth.username if self._matches(auth.username, auth.password or "") else None
        args = req.args
        if "consumer_key" in args:
            key = args["consumer_key"]
            return key if self._matches(key, args.get("consumer_secret", "")) else None
        if "oauth_signature" in args:
            return self._oauth(req)
        return None

    def _matches(self, key: str, secret: str) -> bool:
        known = self.keys.get(key)
        return known is not None and hmac.compare_digest(known.encode(), secret.encode())

    def _oauth(self, req: Request) -> str | None:
        params = {k: v for k, v in req.args.items() if k != "oauth_signature"}
        key = params.get("oauth_consumer_key", "")
        secret = self.keys.get(key)
        if secret is None or params.get("oauth_signature_method") != "HMAC-SHA256":
            return None
        if abs(time.time() - int(params.get("oauth_timestamp", "0") or 0)) > TIMESTAMP_WINDOW:
            return None
        expected = oauth_signature(req.method, req.base_url, params, secret)
        if not hmac.compare_digest(expected.encode(), req.args["oauth_signature"].encode()):
            return None
        with self._lock:
            nonce = (key, params.get("oauth_nonce", ""))
            if nonce in self._nonces:
                return None
            self._nonces.add(nonce)
        return key


def oauth_signature(method: str, url: str, params: Mapping[str, str], consumer_secret: str) -> str:
    def escape(text: str) -> str:
        return quote(unquote(text), safe="").replace("%", "%25")

    pairs = sorted((escape(k), escape(v)) for k, v in params.items())
    base = "&".join((method.upper(), quote(url, safe=""), "%26".join(f"{k}%3D{v}" for k, v in pairs)))
    digest = hmac.new(f"{consumer_secret}&".encode(), base.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
