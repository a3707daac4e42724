"""Install as a Shopify app: the authorization-code grant, then webhook subscriptions.

``GET /install/shopify?shop=…`` sends the merchant to ``https://{shop}/admin/oauth/authorize``
with a ``state`` nonce; ``GET /install/shopify/callback`` checks the query's hex HMAC (all
parameters but ``hmac``, sorted), its ``timestamp`` (within Shopify's own 90-second clock
tolerance), the nonce and the shop, trades the code for an expiring offline token with a refresh
token, saves the store (the hub encrypts the tokens) and subscribes the shop's webhooks
(``subscriptions``).

The state belongs to the browser that started the install, as in Shopify's own library
(``@shopify/shopify-api`` ``auth/oauth/oauth.ts``): an HMAC-signed cookie (HttpOnly, SameSite=Lax,
Secure over https, path ``/install/shopify``) carries the nonce, bound to the shop and its issue
time. So anyone opening ``/install/shopify?shop=X`` cannot void X's install in progress, and an
unauthenticated request stores nothing; the one row a callback writes (its nonce, used) is
written only after Shopify's signature checked out, and expires (``ttl``). Errors answer JSON
``{"error", "message"}`` (a page to a browser: ``hub.web.pages``); without a shop, the install
start is a form asking for it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request

from connectors.shopify import embedded
from connectors.shopify.auth import exchange_code
from connectors.shopify.client import shop_client
from connectors.shopify.settings import API_VERSION, SCOPES, AppSettings, is_shop_domain
from connectors.shopify.subscriptions import subscribe_webhooks
from hub.contracts import StoreDirectory
from hub.errors import PlatformError
from hub.web.pages import InstallForm, install_form, page, problem, wants_page

STATE_COOKIE = "refund_hub_shopify_state"
STATE_MAX_AGE = 600  # seconds an install may take from the first hop to the callback
USED_KEY = "oauth_state_used:"  # + a digest of the nonce: a callback's state is good once
# Shopify's libraries refuse a signed query whose timestamp is more than 90 s off the clock
# (HMAC_TIMESTAMP_PERMITTED_CLOCK_TOLERANCE_SEC in @shopify/shopify-api lib/utils/hmac-validator.ts)
CLOCK_TOLERANCE = 90


def blueprint(app: AppSettings, stores: StoreDirectory) -> Blueprint:
    routes = Blueprint("shopify_install", __name__)

    @routes.get("/install/shopify")
    def start() -> Any:
        if "shop" not in request.args:
            return _form()
        shop = (request.args.get("shop") or "").strip().lower()
        if not is_shop_domain(shop):
            message = "Give the shop's myshopify.com address, e.g. your-store.myshopify.com."
            return _form(message, shop) if wants_page() else problem("invalid_shop", message, 400)
        if "hmac" in request.args and not query_signed(app, _params()):
            return _error("invalid_signature", "The install link's signature is not valid.", 400)
        if not app.api_key or not app.app_url:
            return _error("not_configured", "The Shopify app is not configured (api_key, app_url).", 500)
        nonce = secrets.token_urlsafe(24)
        query = urlencode(
            {
                "client_id": app.api_key,
                "scope": ",".join(SCOPES),
                "redirect_uri": f"{app.app_url}/install/shopify/callback",
                "state": nonce,
            }
        )
        response = redirect(f"{app.admin_base(shop)}/admin/oauth/authorize?{query}")
        response.set_cookie(
            STATE_COOKIE,
            state_cookie(app.api_secret, shop, nonce, int(time.time())),
            max_age=STATE_MAX_AGE,
            **_cookie_options(app),
        )
        return response

    routes.add_url_rule(embedded.PATCH_PATH, "session_token", lambda: embedded.patch_page(app))
    routes.add_url_rule(embedded.SCRIPT_PATH, "embedded_script", embedded.script)

    @routes.get("/install/shopify/callback")
    def callback() -> Any:
        response = _callback(app, stores)
        response.delete_cookie(STATE_COOKIE, **_cookie_options(app))  # one try per started install
        return response

    return routes


def _callback(app: AppSettings, stores: StoreDirectory) -> Response:
    params = _params()
    shop = str(params.get("shop") or "").lower()
    if not is_shop_domain(shop):
        return _error("invalid_shop", "The shop must be a *.myshopify.com domain.", 400)
    if not query_signed(app, params) or not _fresh(params.get("timestamp")):
        return _error("invalid_callback", "The callback's signature is not valid or its timestamp is off.", 400)
    if not _state_matches(app, stores, shop, str(params.get("state") or ""), request.cookies.get(STATE_COOKIE)):
        return _error("invalid_state", "The install did not start in this browser, or expired; start again.", 403)
    client, _ = shop_client(app)
    try:
        with client:
            token = exchange_code(app, shop, str(params.get("code") or ""), client)
    except PlatformError as exc:
        return _error("not_granted", f"Shopify did not grant access: {exc}", 502)
    settings = {
        "api_version": API_VERSION,
        "scope": token.scope,
        "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    store = stores.save(shop, settings=settings, credentials=token.credentials())
    failed = subscribe_webhooks(app, stores, store)
    if failed:
        message = f"Installed on {shop}, but these webhooks could not be registered: {', '.join(failed)}."
        if wants_page():
            return page("pages/installed.html", 502, platform="Shopify", store=shop, problems=failed)
        return _error("webhooks_failed", message, 502)
    return page("pages/installed.html", platform="Shopify", store=shop, problems=())


def query_signed(app: AppSettings, params: Mapping[str, Any]) -> bool:
    """Shopify's OAuth query HMAC (hex), checked by ``ShopifyAPI``'s own routine with the current
    or the previous secret. A throwaway ``Session`` subclass carries the secret, so no
    process-global SDK configuration is touched."""
    import shopify  # ShopifyAPI on an OAuth callback, not in every web worker

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
        return abs(time.time() - int(str(timestamp))) <= CLOCK_TOLERANCE
    except ValueError:
        return False


def state_cookie(secret: str, shop: str, nonce: str, issued: int) -> str:
    """``<nonce>.<issued>.<mac>``: the nonce bound to the shop and its issue time by an HMAC only
    this app can make (a key derived from the app secret)."""
    return f"{nonce}.{issued}.{_state_mac(secret, shop, nonce, issued)}"


def _state_mac(secret: str, shop: str, nonce: str, issued: int) -> str:
    key = hmac.new(secret.encode(), b"refund-hub shopify install state", hashlib.sha256).digest()
    return hmac.new(key, f"{shop}\n{nonce}\n{issued}".encode(), hashlib.sha256).hexdigest()


def _state_matches(app: AppSettings, stores: StoreDirectory, shop: str, given: str, cookie: str | None) -> bool:
    """The callback's ``state`` is the nonce of this browser's cookie, made here for this shop less
    than ``STATE_MAX_AGE`` ago, and not used before."""
    nonce, issued, mac = ((cookie or "").split(".") + ["", "", ""])[:3]
    if not nonce or not given or not issued.isdigit() or len(issued) > 12:
        return False
    if not 0 <= time.time() - int(issued) <= STATE_MAX_AGE:
        return False
    keys = [s for s in (app.api_secret, app.previous_api_secret) if s]
    if not any(_same(mac, _state_mac(s, shop, nonce, int(issued))) for s in keys) or not _same(nonce, given):
        return False
    used = USED_KEY + hashlib.sha256(nonce.encode()).hexdigest()[:32]
    if stores.get_state(shop, used):
        return False
    stores.set_state(shop, used, "1", ttl=STATE_MAX_AGE)
    return True


def _same(given: str, expected: str) -> bool:
    """Constant-time, for any text a browser sends (``compare_digest`` refuses non-ASCII ``str``)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))


def _cookie_options(app: AppSettings) -> dict[str, Any]:
    return {
        "path": f"{request.script_root}/install/shopify",
        "secure": app.app_url.startswith("https://"),
        "httponly": True,
        "samesite": "Lax",
    }


def _error(code: str, message: str, status: int) -> Response:
    return problem(code, message, status)


FORM = InstallForm(
    platform="Shopify",
    intro="Refund Hub asks Shopify for access to orders, returns and refunds, then registers its webhooks.",
    field="shop",
    label="Your store's Shopify address",
    placeholder="your-store.myshopify.com",
    help="The address under Settings › Domains that ends in .myshopify.com.",
)


def _form(error: str = "", value: str = "") -> Response:
    return install_form(FORM, error, value)
