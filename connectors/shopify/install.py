"""Install as a Shopify app: the authorization-code grant, then webhook subscriptions.

``GET /install/shopify?shop=…`` sends the merchant to ``https://{shop}/admin/oauth/authorize``
with a ``state`` nonce; ``GET /install/shopify/callback`` checks the query's hex HMAC (all
parameters but ``hmac``, sorted), its age, the nonce and the shop, trades the code for an
expiring offline token with a refresh token, saves the store (the hub encrypts the tokens) and
subscribes the shop's webhooks (``subscriptions``).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

import shopify
from flask import Blueprint, Response, redirect, request

from connectors.shopify.auth import exchange_code
from connectors.shopify.client import shop_client
from connectors.shopify.settings import API_VERSION, SCOPES, AppSettings, is_shop_domain
from connectors.shopify.subscriptions import subscribe_webhooks
from hub.contracts import StoreDirectory
from hub.errors import PlatformError

STATE_KEY = "oauth_state"
MAX_AGE = 600  # seconds a state nonce and a signed callback stay good


def blueprint(app: AppSettings, stores: StoreDirectory) -> Blueprint:
    routes = Blueprint("shopify_install", __name__)

    @routes.get("/install/shopify")
    def start() -> Any:
        shop = (request.args.get("shop") or "").strip().lower()
        if not is_shop_domain(shop):
            return _page("The shop must be a *.myshopify.com domain.", 400)
        if "hmac" in request.args and not query_signed(app, _params()):
            return _page("The install link's signature is not valid.", 400)
        if not app.api_key or not app.app_url:
            return _page("The Shopify app is not configured (api_key, app_url).", 500)
        nonce = secrets.token_urlsafe(24)
        stores.set_state(shop, STATE_KEY, f"{nonce} {int(time.time())}")
        query = urlencode(
            {
                "client_id": app.api_key,
                "scope": ",".join(SCOPES),
                "redirect_uri": f"{app.app_url}/install/shopify/callback",
                "state": nonce,
            }
        )
        return redirect(f"{app.admin_base(shop)}/admin/oauth/authorize?{query}")

    @routes.get("/install/shopify/callback")
    def callback() -> Any:
        params = _params()
        shop = str(params.get("shop") or "").lower()
        if not is_shop_domain(shop):
            return _page("The shop must be a *.myshopify.com domain.", 400)
        if not query_signed(app, params) or not _fresh(params.get("timestamp")):
            return _page("The callback's signature is not valid or too old.", 400)
        if not _state_matches(stores, shop, str(params.get("state") or "")):
            return _page("The install request expired or did not start here; start again.", 403)
        client, _ = shop_client(app)
        try:
            with client:
                token = exchange_code(app, shop, str(params.get("code") or ""), client)
        except PlatformError as exc:
            return _page(f"Shopify did not grant access: {exc}", 502)
        settings = {
            "api_version": API_VERSION,
            "scope": token.scope,
            "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        store = stores.save(shop, settings=settings, credentials=token.credentials())
        failed = subscribe_webhooks(app, stores, store)
        if failed:
            return _page(f"Installed on {shop}, but these webhooks could not be registered: {', '.join(failed)}.", 502)
        return _page(f"Refund Hub is installed on {shop}.", 200)

    return routes


def query_signed(app: AppSettings, params: Mapping[str, Any]) -> bool:
    """Shopify's OAuth query HMAC (hex), checked by ``ShopifyAPI``'s own routine with the current
    or the previous secret. A throwaway ``Session`` subclass carries the secret, so no
    process-global SDK configuration is touched."""
    for secret in (app.api_secret, app.previous_api_secret):
        if not secret:
            continue
        session: type[shopify.Session] = type(
            "HubShopifySession", (shopify.Session,), {"api_key": app.api_key, "secret": secret}
        )
        if session.validate_hmac(dict(params)):
            return True
    return False


def _params() -> dict[str, Any]:
    """The query as ShopifyAPI signs it: ``ids[]``-style keys keep every value."""
    return {k: (request.args.getlist(k) if k.endswith("[]") else request.args.get(k)) for k in request.args}


def _fresh(timestamp: Any) -> bool:
    try:
        return abs(time.time() - int(str(timestamp))) <= MAX_AGE
    except ValueError:
        return False


def _state_matches(stores: StoreDirectory, shop: str, given: str) -> bool:
    stored = stores.get_state(shop, STATE_KEY) or ""
    stores.set_state(shop, STATE_KEY, None)  # one use only
    nonce, _, issued = stored.partition(" ")
    if not nonce or not given or not issued.isdigit() or time.time() - int(issued) > MAX_AGE:
        return False
    return hmac.compare_digest(nonce.encode(), given.encode())


def _page(message: str, status: int) -> Response:
    html = f"<!doctype html><title>Refund Hub</title><p>{escape(message)}</p>"
    return Response(html, status=status, mimetype="text/html")
