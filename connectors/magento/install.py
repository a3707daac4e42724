"""Routes the connector adds: Magento's integration activation, and Adobe I/O Events' URL challenge.

``GET /install/magento`` is the page listing what to paste into Magento. Activation (Adobe's
"OAuth-based authentication" guide): the merchant creates an integration with
Callback URL ``/install/magento/callback`` and Identity link URL ``/install/magento/identity`` and
clicks Activate. Magento POSTs ``oauth_consumer_key``, ``oauth_consumer_secret``, ``store_base_url``
and ``oauth_verifier`` to the callback (kept as pending state, keyed by consumer key), then opens
the identity link with ``oauth_consumer_key`` and ``success_call_back``. There the hub exchanges a
request token (``POST /oauth/token/request``) for an access token (``POST /oauth/token/access``,
with the verifier), both OAuth 1.0a HMAC-SHA256 signed, saves the store, and sends the browser
back to ``success_call_back``. The store id is the base URL's host (and port and path, if any).

The store's URL arrives in an unauthenticated POST, so the hub only calls it when it is https (http
too in ``test_mode``) on a public address (any address with ``allow_private_networks``), and the
exchange connects to the address it checked, following no redirect (``network``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from flask import Blueprint, Response, abort, jsonify, redirect, request, url_for

from connectors.magento import index
from connectors.magento.network import UnsafeURL, pinned, pinned_adapter, resolve
from hub.contracts import StoreDirectory
from hub.web.pages import page

__all__ = ["UnsafeURL", "blueprint", "exchange_tokens", "safe_base_url", "same_origin", "store_id_for"]

PENDING = "_pending_activation"  # state namespace: activations between callback and identity link
PENDING_TTL = 3600.0
EXCHANGE_TIMEOUT = (5.0, 20.0)
NO_ACTIVATION = "No activation is waiting for this integration: choose Activate again in Magento (it lasts an hour)."
CALLBACK_FIELDS = ("oauth_consumer_key", "oauth_consumer_secret", "store_base_url", "oauth_verifier")


def safe_base_url(url: str, *, test_mode: bool, allow_private: bool = False) -> str:
    """The store's base URL if it is https (http too in test mode) on a public host (any host with
    ``allow_private``). Only a first check: the token exchange resolves the host again, once, and
    connects to what it checked (``network.pin``)."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" and not (test_mode and parts.scheme == "http"):
        raise UnsafeURL("store_base_url must be https")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeURL("store_base_url must name a host and no user")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("store_base_url has a bad port") from None
    if not allow_private:
        resolve(parts.hostname, port, allow_private=False)
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def store_id_for(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}"


def same_origin(url: str, base_url: str) -> bool:
    target, base = urlsplit(url), urlsplit(base_url)
    return (target.scheme, target.netloc.lower()) == (base.scheme, base.netloc.lower())


def exchange_tokens(base_url: str, pending: Mapping[str, str], *, allow_private: bool = False) -> dict[str, str]:
    """Request token, then access token: Magento's two-legged OAuth 1.0a handshake.

    The URL came from an unauthenticated callback: its host is resolved once, both requests go to
    that address and neither follows a redirect (``network``)."""
    from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256  # on an activation, not in every web worker
    from requests_oauthlib import OAuth1Session

    key, secret = pending["oauth_consumer_key"], pending["oauth_consumer_secret"]
    adapter = pinned_adapter(base_url, allow_private=allow_private)
    try:
        first = pinned(OAuth1Session(key, client_secret=secret, signature_method=SIGNATURE_HMAC_SHA256), adapter)
        token = first.fetch_request_token(f"{base_url}/oauth/token/request", timeout=EXCHANGE_TIMEOUT)
        second = OAuth1Session(
            key,
            client_secret=secret,
            resource_owner_key=token["oauth_token"],
            resource_owner_secret=token["oauth_token_secret"],
            verifier=pending["oauth_verifier"],
            signature_method=SIGNATURE_HMAC_SHA256,
        )
        access = pinned(second, adapter).fetch_access_token(f"{base_url}/oauth/token/access", timeout=EXCHANGE_TIMEOUT)
    finally:
        adapter.close()
    return {
        "consumer_key": key,
        "consumer_secret": secret,
        "access_token": access["oauth_token"],
        "access_token_secret": access["oauth_token_secret"],
    }


def blueprint(settings: Mapping[str, Any], stores: StoreDirectory) -> Blueprint:
    routes = Blueprint("magento", __name__)
    test_mode = bool(settings.get("test_mode"))
    allow_private = bool(settings.get("allow_private_networks"))

    routes.get("/install/magento")(setup_page)

    @routes.post("/install/magento/callback")
    def callback() -> Any:
        form = {name: (request.form.get(name) or "").strip() for name in CALLBACK_FIELDS}
        if not all(form.values()):
            abort(400, "activation without consumer credentials")
        try:
            form["store_base_url"] = safe_base_url(
                form["store_base_url"], test_mode=test_mode, allow_private=allow_private
            )
        except UnsafeURL as exc:
            abort(400, str(exc))
        pending = json.dumps({**form, "received": time.time()})
        stores.set_state(PENDING, form["oauth_consumer_key"], pending, ttl=PENDING_TTL)
        return "OK", 200

    @routes.get("/install/magento/identity")
    def identity() -> Any:
        key = request.args.get("oauth_consumer_key", "")
        back = request.args.get("success_call_back", "")
        raw = stores.get_state(PENDING, key) if key else None
        pending = json.loads(raw) if raw else None
        if not pending or time.time() - float(pending["received"]) > PENDING_TTL:
            abort(404, NO_ACTIVATION)
        base_url = pending["store_base_url"]
        if back and not same_origin(back, base_url):
            abort(400, "success_call_back is not on the store")
        try:
            credentials = exchange_tokens(base_url, pending, allow_private=allow_private)
        except UnsafeURL as exc:
            abort(400, str(exc))
        except (requests.RequestException, ValueError, KeyError) as exc:
            abort(502, f"token exchange with Magento failed: {type(exc).__name__}")
        store_id = store_id_for(base_url)
        existing = stores.get(store_id)
        kept = dict(existing.settings) if existing else {}
        saved = stores.save(
            store_id, settings={**kept, "base_url": base_url, "installed_at": _now()}, credentials=credentials
        )
        index.note(stores, saved)
        stores.set_state(PENDING, key, None)
        if back:
            return redirect(back, code=302)
        return page("pages/installed.html", platform="Magento", store=store_id, problems=())

    @routes.get("/webhooks/magento")
    def challenge() -> Any:
        # Adobe I/O Events checks a new webhook URL with GET ?challenge=<value> and expects it back.
        value = request.args.get("challenge")
        if not value:
            abort(404)
        return jsonify({"challenge": value})

    return routes


def setup_page() -> Response:
    """What the merchant pastes into Magento's integration form (URLs as this hub is reached)."""
    return page(
        "pages/install_setup.html",
        platform="Magento",
        intro="Magento connects through an integration you create in its admin; Refund Hub is told "
        "the keys when you activate it.",
        steps=(
            "In the Magento admin, open System › Extensions › Integrations and choose Add New Integration.",
            "Name it Refund Hub, paste the two URLs below, and enter your admin password.",
            "Under API, allow Sales › Operations: Orders (with Credit Memos), Invoices and Shipments.",
            "Save, then choose Activate and Allow: Magento sends the keys here and brings you back.",
        ),
        fields=(
            ("Callback URL", url_for("magento.callback", _external=True), "Magento posts the keys here."),
            ("Identity link URL", url_for("magento.identity", _external=True), "Opened while you activate."),
            (
                "Adobe I/O Events webhook URL (Adobe Commerce)",
                url_for("magento.challenge", _external=True),
                "Only if you send Commerce events through Adobe I/O.",
            ),
        ),
    )


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
