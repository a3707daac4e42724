"""How the WooCommerce simulator checks REST credentials, as WooCommerce's REST authentication does,
and hands out new keys (``/wc-auth/v1/authorize``, ``WC_Auth``: the keys exist before they are
POSTed to the https ``callback_url``, and are deleted unless it answers 200).

Accepted: HTTP Basic ``consumer_key:consumer_secret``, query-string ``consumer_key`` and
``consumer_secret``, and one-legged OAuth 1.0a (HMAC-SHA256, what the ``woocommerce`` package
sends over plain http): the base string is ``METHOD&rawurlencode(url)&sorted params`` with each
key and value rawurlencoded then ``%`` escaped again, signed with ``consumer_secret&``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import requests
from flask import Request, Response, redirect, request

if TYPE_CHECKING:
    from connectors.woocommerce.sim.server import WooCommerceSimulator

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


def authorize(sim: WooCommerceSimulator) -> Any:
    """``WC_Auth``: keys for the app, POSTed to ``callback_url``, then back to ``return_url``."""
    args = request.args
    missing = [k for k in ("app_name", "scope", "user_id", "return_url", "callback_url") if not args.get(k)]
    if missing or args["scope"] not in ("read", "write", "read_write"):
        return Response(f"Missing parameter {missing[0] if missing else 'scope'}", status=400)
    if not _over_ssl(args["callback_url"]):
        return Response("Error: The callback_url needs to be over SSL.", status=401)
    if sim.deny_authorization:
        return redirect(_with_query(args["return_url"], success="0", user_id=args["user_id"]))
    key_id = len(sim.authorizations) + 1
    key, secret = f"ck_{secrets.token_hex(20)}", f"cs_{secrets.token_hex(20)}"
    data = {
        "key_id": key_id,
        "user_id": args["user_id"],
        "consumer_key": key,
        "consumer_secret": secret,
        "key_permissions": args["scope"],
    }
    sim.auth.keys[key] = secret
    try:
        answer = requests.post(
            args["callback_url"],
            data=json.dumps(data),
            timeout=10,
            headers={"Content-Type": "application/json;charset=UTF-8"},
        )
        accepted = answer.status_code == 200
    except requests.RequestException:
        accepted = False
    sim.authorizations.append({**data, "app_name": args["app_name"], "accepted": accepted})
    if not accepted:
        del sim.auth.keys[key]
        return Response(
            "An error occurred in the request and at the time were unable to send the consumer data", status=401
        )
    return redirect(_with_query(args["return_url"], success="1", user_id=args["user_id"]))


def _over_ssl(url: str) -> bool:
    """``make_validation``: a ``callback_url`` without a scheme gets ``https://``; any other scheme
    than https is refused. The simulator also lets plain http reach a loopback hub (tests, sandbox)."""
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        if parts.scheme.lower() == "https":
            return True
        host = (parts.hostname or "").lower()
        return parts.scheme.lower() == "http" and (host == "localhost" or ipaddress.ip_address(host).is_loopback)
    except ValueError:
        return False


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))
