"""The console inside Shopify admin (an embedded app): session tokens checked on every request,
the store's access token obtained by token exchange, App Bridge on every page.

Shopify opens the app's URL in an iframe with ``?embedded=1&shop=…&host=…&id_token=…``; the ID
token (a one-minute HS256 JWT signed with the app secret, ``aud`` the client id, ``dest`` the
shop) is checked by Shopify's own library (``shopify_app.verify_app_home_req``, 10 s clock skew,
the previous secret during a rotation). A navigation carries no token: the library answers it
with a redirect to the bounce page (``PATCH_PATH``), where App Bridge fetches a fresh token and
reloads the page with it — so every console link keeps ``embedded``, ``shop`` and ``host``, and a
form carries the token in a hidden ``id_token`` field that ``embedded.js`` fills on submit.

The first verified request of a shop the hub does not hold a token for installs it (Shopify's
managed install): the ID token is exchanged for an expiring offline access token
(``shopify_app.token_exchange``), the store saved and its webhooks subscribed. A shop with an
old non-expiring token is moved to an expiring one by ``auth.migrate_token`` (Shopify stops
accepting non-expiring tokens of public apps on 2027-01-01).

App Bridge must come from Shopify's CDN (``cdn.shopify.com/shopifycloud/app-bridge.js``: Shopify
requires the current script and it updates itself); it is the one asset the hub does not serve,
and only inside Shopify admin, which is online by definition.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Response, request

from connectors.shopify.auth import ShopToken
from connectors.shopify.client import shop_client
from connectors.shopify.settings import API_VERSION, AppSettings
from connectors.shopify.subscriptions import subscribe_webhooks
from hub.contracts import Answer, FramedRequest, FramedSession, StoreDirectory

if TYPE_CHECKING:
    from shopify_app.types import AppConfig

PATCH_PATH = "/shopify/session-token"
SCRIPT_PATH = "/shopify/embedded.js"
APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
KEEP = ("embedded", "shop", "host")
SCRIPT = Path(__file__).with_name("embedded.js")


def is_framed(req: FramedRequest) -> bool:
    """Shopify's marks of an App Home request: ``embedded=1``, an ``id_token`` in the query or a form."""
    query = dict(parse_qsl(urlsplit(req.url).query))
    return query.get("embedded") == "1" or "id_token" in query or bool(req.form_token)


def framed(app: AppSettings, stores: StoreDirectory, req: FramedRequest) -> FramedSession | Answer | None:
    if not app.api_key or not is_framed(req):
        return None
    url = _with_token(req.url, req.form_token) if req.form_token else req.url
    headers = {k: v for k, v in req.headers.items() if k.lower() != "authorization" or v.count(".") == 2}
    from shopify_app import verify_app_home_req  # the package on a framed request, not in every worker

    result = verify_app_home_req(
        {"method": req.method, "headers": headers, "url": url, "body": ""}, _config(app), PATCH_PATH
    )
    if not result.ok or result.shop is None or result.id_token is None:
        return Answer(result.response.status, str(result.response.body or ""), dict(result.response.headers or {}))
    shop = f"{result.shop}.myshopify.com"
    store = stores.get(shop)
    if store is None or not store.credentials.get("access_token"):
        problem = _install(app, stores, shop, result.id_token)
        if problem is not None:
            return problem
    query = dict(parse_qsl(urlsplit(req.url).query))
    keep = {"embedded": "1", "shop": shop, **({"host": query["host"]} if query.get("host") else {})}
    return FramedSession(
        store_id=shop,
        user=str(result.user_id or "staff"),
        keep=keep,
        headers=dict(result.response.headers or {}),
        head=_head(app),
    )


def _install(app: AppSettings, stores: StoreDirectory, shop: str, id_token: Any) -> Answer | None:
    """Shopify's managed install: the ID token buys an expiring offline token; the store is saved
    and subscribed. None when it worked, else the answer the merchant sees."""
    from shopify_app import token_exchange

    client, _ = shop_client(app)
    with client:
        exchanged = token_exchange("offline", _config(app), id_token=id_token, expiring=True, http_client=client)
        if not exchanged.ok or exchanged.access_token is None:
            return Answer(502, f"Shopify refused the token exchange for {shop} ({exchanged.log.code}).")
        granted = exchanged.access_token
        token = ShopToken(
            access_token=granted.token,
            refresh_token=granted.refresh_token or "",
            expires=granted.expires or "",
            refresh_token_expires=granted.refresh_token_expires or "",
            scope=granted.scope or "",
        )
        settings = {
            "api_version": API_VERSION,
            "scope": token.scope,
            "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "installed_by": "token_exchange",
        }
        store = stores.save(shop, settings=settings, credentials=token.credentials())
    subscribe_webhooks(app, stores, store)  # a failed subscription is retried by the janitor's check
    return None


def patch_page(app: AppSettings) -> Response:
    """The bounce page: App Bridge alone, which reloads ``shopify-reload`` with a fresh ID token."""
    from shopify_app import app_home_patch_id_token

    result = app_home_patch_id_token(
        {"method": request.method, "headers": dict(request.headers), "url": request.url, "body": ""}, _config(app)
    )
    answer = result.response
    return Response(str(answer.body or ""), status=answer.status, headers=dict(answer.headers or {}))


def script() -> Response:
    return Response(SCRIPT.read_text(), mimetype="text/javascript", headers={"Cache-Control": "max-age=3600"})


def _head(app: AppSettings) -> str:
    return (
        f'<meta name="shopify-api-key" content="{escape(app.api_key)}">\n'
        f'<script src="{APP_BRIDGE}"></script>\n'
        f'<script src="{SCRIPT_PATH}" defer></script>'
    )


def _config(app: AppSettings) -> AppConfig:
    return {"client_id": app.api_key, "client_secret": app.api_secret, "old_client_secret": app.previous_api_secret}


def _with_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "id_token"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("id_token", token)])))
