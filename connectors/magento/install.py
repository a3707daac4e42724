"""Routes the connector adds: Magento's integration activation, and Adobe I/O Events' URL challenge.

Activation (Adobe's "OAuth-based authentication" guide): the merchant creates an integration with
Callback URL ``/install/magento/callback`` and Identity link URL ``/install/magento/identity`` and
clicks Activate. Magento POSTs ``oauth_consumer_key``, ``oauth_consumer_secret``, ``store_base_url``
and ``oauth_verifier`` to the callback (kept as pending state, keyed by consumer key), then opens
the identity link with ``oauth_consumer_key`` and ``success_call_back``. There the hub exchanges a
request token (``POST /oauth/token/request``) for an access token (``POST /oauth/token/access``,
with the verifier), both OAuth 1.0a HMAC-SHA256 signed, saves the store, and sends the browser
back to ``success_call_back``. The store id is the base URL's host (and port and path, if any).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from flask import Blueprint, abort, jsonify, redirect, request
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1Session

from hub.contracts import StoreDirectory

PENDING = "_pending_activation"  # state namespace: activations between callback and identity link
PENDING_TTL = 3600.0
EXCHANGE_TIMEOUT = (5.0, 20.0)
CALLBACK_FIELDS = ("oauth_consumer_key", "oauth_consumer_secret", "store_base_url", "oauth_verifier")


class UnsafeURL(ValueError):
    pass


def safe_base_url(url: str, *, test_mode: bool) -> str:
    """The store's base URL if it is https on a public host (http and loopback only in test mode)."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" and not (test_mode and parts.scheme == "http"):
        raise UnsafeURL("store_base_url must be https")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeURL("store_base_url must name a host and no user")
    if not test_mode:
        for address in _addresses(parts.hostname):
            if not address.is_global:
                raise UnsafeURL(f"store_base_url resolves to a non-public address {address}")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        raise UnsafeURL(f"store_base_url host {host} does not resolve") from None
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def store_id_for(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}"


def same_origin(url: str, base_url: str) -> bool:
    target, base = urlsplit(url), urlsplit(base_url)
    return (target.scheme, target.netloc.lower()) == (base.scheme, base.netloc.lower())


def exchange_tokens(base_url: str, pending: Mapping[str, str]) -> dict[str, str]:
    """Request token, then access token: Magento's two-legged OAuth 1.0a handshake."""
    key, secret = pending["oauth_consumer_key"], pending["oauth_consumer_secret"]
    first = OAuth1Session(key, client_secret=secret, signature_method=SIGNATURE_HMAC_SHA256)
    token = first.fetch_request_token(f"{base_url}/oauth/token/request", timeout=EXCHANGE_TIMEOUT)
    second = OAuth1Session(
        key,
        client_secret=secret,
        resource_owner_key=token["oauth_token"],
        resource_owner_secret=token["oauth_token_secret"],
        verifier=pending["oauth_verifier"],
        signature_method=SIGNATURE_HMAC_SHA256,
    )
    access = second.fetch_access_token(f"{base_url}/oauth/token/access", timeout=EXCHANGE_TIMEOUT)
    return {
        "consumer_key": key,
        "consumer_secret": secret,
        "access_token": access["oauth_token"],
        "access_token_secret": access["oauth_token_secret"],
    }


def blueprint(settings: Mapping[str, Any], stores: StoreDirectory) -> Blueprint:
    routes = Blueprint("magento", __name__)
    test_mode = bool(settings.get("test_mode"))

    @routes.post("/install/magento/callback")
    def callback() -> Any:
        form = {name: (request.form.get(name) or "").strip() for name in CALLBACK_FIELDS}
        if not all(form.values()):
            abort(400, "activation without consumer credentials")
        try:
            form["store_base_url"] = safe_base_url(form["store_base_url"], test_mode=test_mode)
        except UnsafeURL as exc:
            abort(400, str(exc))
        stores.set_state(PENDING, form["oauth_consumer_key"], json.dumps({**form, "received": time.time()}))
        return "OK", 200

    @routes.get("/install/magento/identity")
    def identity() -> Any:
        key = request.args.get("oauth_consumer_key", "")
        back = request.args.get("success_call_back", "")
        raw = stores.get_state(PENDING, key) if key else None
        pending = json.loads(raw) if raw else None
        if not pending or time.time() - float(pending["received"]) > PENDING_TTL:
            abort(404, "no pending activation for this consumer key")
        base_url = pending["store_base_url"]
        if back and not same_origin(back, base_url):
            abort(400, "success_call_back is not on the store")
        try:
            credentials = exchange_tokens(base_url, pending)
        except (requests.RequestException, ValueError, KeyError) as exc:
            abort(502, f"token exchange with Magento failed: {type(exc).__name__}")
        store_id = store_id_for(base_url)
        existing = stores.get(store_id)
        kept = dict(existing.settings) if existing else {}
        stores.save(store_id, settings={**kept, "base_url": base_url, "installed_at": _now()}, credentials=credentials)
        stores.set_state(PENDING, key, None)
        return redirect(back, code=302) if back else ("Refund Hub is connected to your store.", 200)

    @routes.get("/webhooks/magento")
    def challenge() -> Any:
        # Adobe I/O Events checks a new webhook URL with GET ?challenge=<value> and expects it back.
        value = request.args.get("challenge")
        if not value:
            abort(404)
        return jsonify({"challenge": value})

    return routes


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
