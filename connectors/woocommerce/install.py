"""Install flow: WooCommerce's key authorization endpoint, then the hub's webhooks.

``GET /install/woocommerce?store_url=…`` sends the merchant to ``{store}/wc-auth/v1/authorize``
with a ``user_id`` the hub generated for that store: a random one-use secret (48 letters and
digits), kept in the store's state with a ttl. WooCommerce POSTs the new REST keys, unsigned, to
``/install/woocommerce/callback`` and sends the browser to ``/install/woocommerce/return``, where
the hub creates its webhooks.

Who may change a store's keys (the decision). Starting an install is unauthenticated, so whoever
starts one reads its ``user_id`` from the redirect and could post any keys to the callback
himself: the ``user_id`` binds a callback to an install the hub started for that store, once and
for an hour, but it does not prove that WooCommerce sent it. What does is the keys themselves:
WooCommerce creates keys only on its grant screen (``class-wc-auth.php``: a logged-in user with
``manage_woocommerce`` who approved, nonce-checked), so keys that answer the store's own REST API
are the merchant's authenticated confirmation — the only one the hub can check, as it has no
merchant login of its own. Hence the callback never saves keys it has not verified: it reads the
store's REST API (``GET /webhooks``) with the new keys first, and only keys that answer replace a
working install's keys or re-enable a disabled store; others are refused (403, nothing changes,
and WooCommerce deletes keys whose callback was not answered 200). An unauthenticated callback
therefore cannot replace, break or re-enable anything; a genuine reinstall replaces the keys and
keeps the webhook secret. The old keys stay valid on the store until the merchant revokes them.

WooCommerce refuses a ``callback_url`` that is not https (``make_validation``): outside
``test_mode`` the hub's ``app_url`` must be https, or no install starts. A callback body that is
not a JSON object is a 400 JSON answer, like every answer of the callback.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Blueprint, Response, jsonify, redirect, request

from connectors.woocommerce.client import WooClient, WooError
from connectors.woocommerce.subscriptions import new_secret
from connectors.woocommerce.verify import store_id_for
from hub.contracts import StoreContext, StoreDirectory
from hub.errors import ConfigError
from hub.web.pages import InstallForm, install_form, page, problem, wants_page

if TYPE_CHECKING:
    from connectors.woocommerce.connector import WooCommerceConnector

TOKEN_TTL = 3600.0
VERIFY_TIMEOUT = 15.0  # WooCommerce waits 60 s for the callback's answer
Resolver = Callable[..., list[Any]]


def validate_store_url(raw: str, *, test_mode: bool, resolve: Resolver = socket.getaddrinfo) -> str:
    """The store id for a merchant-typed URL; ``ValueError`` unless it is https on a public
    address (``test_mode`` also allows http and loopback, for the simulator)."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("store_url must be an absolute http(s) URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("store_url must not carry credentials, a query or a fragment")
    if test_mode:
        return store_id_for(raw)
    if parts.scheme != "https":
        raise ValueError("store_url must use https")
    try:
        infos = resolve(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise ValueError(f"cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        mapped = getattr(address, "ipv4_mapped", None)
        if not (mapped or address).is_global:
            raise ValueError(f"{parts.hostname} resolves to a non-public address ({address})")
    return store_id_for(raw)


def install_app_url(settings: Any) -> str:
    """The hub's public URL for callback and return URLs: https, as WooCommerce requires of the
    ``callback_url`` (plain http only in ``test_mode``, for the simulator)."""
    url = str(settings.get("app_url") or "").rstrip("/")
    if not url:
        raise ConfigError("connectors.woocommerce.app_url", "the hub's public URL is needed to install stores")
    if urlsplit(url).scheme != "https" and not (settings.get("test_mode") and url.startswith("http://")):
        raise ConfigError(
            "connectors.woocommerce.app_url",
            f"must be an https URL (got {url!r}): WooCommerce refuses a callback_url that is not https",
        )
    return url


def install_blueprint(connector: WooCommerceConnector) -> Blueprint:
    bp = Blueprint("woocommerce_install", __name__, url_prefix="/install/woocommerce")
    stores = connector.stores

    @bp.get("")
    def start() -> Any:
        if "store_url" not in request.args:
            return _form()
        typed = request.args.get("store_url", "")
        try:
            store_id = validate_store_url(typed, test_mode=bool(connector.settings.get("test_mode")))
        except ValueError as exc:
            return _form(str(exc), typed) if wants_page() else problem("invalid_store_url", str(exc), 400)
        try:
            app_url = install_app_url(connector.settings)
        except ConfigError as exc:
            return problem("not_configured", str(exc), 500)
        token = new_secret()
        _set_stage(stores, store_id, token, "authorize")
        back = f"?store={quote(store_id, safe='')}"
        query = urlencode(
            {
                "app_name": connector.settings.get("app_name", "Refund Hub"),
                "scope": "read_write",
                "user_id": token,
                "return_url": f"{app_url}/install/woocommerce/return{back}",
                "callback_url": f"{app_url}/install/woocommerce/callback{back}",
            }
        )
        return redirect(f"{store_id}/wc-auth/v1/authorize?{query}", code=302)

    @bp.post("/callback")
    def callback() -> tuple[Response, int]:
        return take_keys(connector, request.args.get("store", ""), request.get_json(force=True, silent=True))

    @bp.get("/return")
    def finish() -> Response:
        store_id = request.args.get("store", "")
        token = request.args.get("user_id", "")
        stage = _stage(stores, store_id, token)
        if stage is None:
            return problem("unknown_install", "This install is unknown or expired: start it again.", 403)
        stores.set_state(store_id, _state_key(token), None)
        store = stores.get(store_id)
        if request.args.get("success") != "1" or stage != "keys" or store is None:
            message = "WooCommerce did not grant Refund Hub access; nothing was installed."
            return problem("not_granted", message, 400)
        problems = connector.ensure_webhooks(store)
        failed = [str(p) for p in problems if not p.action.startswith(("created", "re-enabled"))]
        if failed and not wants_page():
            return problem("webhooks_failed", f"Connected to {store_id}, but: {'; '.join(failed)}", 502)
        return page("pages/installed.html", 502 if failed else 200, platform="WooCommerce", store=store_id,
                    problems=failed)  # fmt: skip

    return bp


def take_keys(connector: WooCommerceConnector, store_id: str, data: Any) -> tuple[Response, int]:
    """The callback: the keys WooCommerce (or anyone) POSTed for the install ``data["user_id"]``
    names, saved only for a ``user_id`` the hub issued for this store and not yet used, and only
    once they answer the store's REST API (see the module docstring)."""
    stores = connector.stores
    if not isinstance(data, dict):
        return _json(400, "bad_request", "the callback body must be a JSON object")
    token = data.get("user_id")
    if not isinstance(token, str) or _stage(stores, store_id, token) != "authorize":
        return _json(403, "unknown_user_id", "unknown or used user_id")
    if data.get("key_permissions") != "read_write":
        return _json(400, "bad_request", "Refund Hub needs read_write keys")
    key, secret = data.get("consumer_key"), data.get("consumer_secret")
    if not (isinstance(key, str) and key.startswith("ck_") and isinstance(secret, str) and secret.startswith("cs_")):
        return _json(400, "bad_request", "consumer_key and consumer_secret missing")
    _set_stage(stores, store_id, token, "refused")  # used up: whatever follows, never again
    old = stores.get(store_id)
    settings = {**(old.settings if old else {}), "url": store_id, "key_id": str(data.get("key_id") or "")}
    problem = _keys_problem(connector, store_id, settings, key, secret)
    if problem is not None:
        message = f"these keys do not answer {store_id}'s REST API ({problem}); nothing was changed"
        return _json(403, "keys_not_verified", message)
    credentials = {**(old.credentials if old else {}), "consumer_key": key, "consumer_secret": secret}
    credentials.setdefault("webhook_secret", new_secret())
    stores.save(store_id, settings=settings, credentials=credentials)
    _set_stage(stores, store_id, token, "keys")
    return jsonify(result="ok", message="keys verified and saved"), 200


def _keys_problem(
    connector: WooCommerceConnector, store_id: str, settings: dict[str, Any], key: str, secret: str
) -> str | None:
    """Why the keys are not the store's (None: they read its REST API, as only its own keys can)."""
    candidate = StoreContext(
        id=store_id,
        connector=connector.name,
        settings=settings,
        credentials={"consumer_key": key, "consumer_secret": secret},
    )
    timeout = min(float(connector.settings.get("timeout", VERIFY_TIMEOUT)), VERIFY_TIMEOUT)
    try:
        WooClient(candidate, timeout=timeout).page("webhooks", None, 1)
    except WooError as exc:
        return exc.message
    return None


def _state_key(token: str) -> str:
    return f"install:{token}"


def _set_stage(stores: StoreDirectory, store_id: str, token: str, stage: str) -> None:
    stores.set_state(store_id, _state_key(token), json.dumps({"issued": time.time(), "stage": stage}), ttl=TOKEN_TTL)


def _stage(stores: StoreDirectory, store_id: str, token: str) -> str | None:
    """Where an install stands for this store and ``user_id``: None when unknown or expired."""
    raw = stores.get_state(store_id, _state_key(token)) if store_id and token else None
    if raw is None:
        return None
    try:
        state = json.loads(raw)
        issued = float(state.get("issued", 0))
    except (ValueError, TypeError, AttributeError):
        return None
    if time.time() - issued > TOKEN_TTL:
        return None
    return str(state.get("stage"))


def _json(status: int, code: str, message: str) -> tuple[Response, int]:
    """The callback's refusals: WooCommerce's server reads them, so always JSON."""
    return jsonify(error=code, message=message), status


FORM = InstallForm(
    platform="WooCommerce",
    intro="Refund Hub asks your store for REST API keys (you approve them in WordPress), then adds its webhooks.",
    field="store_url",
    label="Your store's address",
    placeholder="https://shop.example.com",
    help="The address of the WordPress site WooCommerce runs on (https).",
)


def _form(error: str = "", value: str = "") -> Response:
    return install_form(FORM, error, value)
