"""Install flow: WooCommerce's key authorization endpoint, then the hub's webhooks.

``GET /install/woocommerce?store_url=…`` sends the merchant to ``{store}/wc-auth/v1/authorize``
with an unguessable ``user_id`` bound to that store. WooCommerce POSTs the new REST keys, unsigned,
to ``/install/woocommerce/callback`` (accepted only for a ``user_id`` the hub issued and not yet
used) and sends the browser to ``/install/woocommerce/return``, where the hub creates its webhooks.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Blueprint, Response, redirect, request

from connectors.woocommerce.subscriptions import new_secret
from connectors.woocommerce.verify import store_id_for
from hub.errors import ConfigError

if TYPE_CHECKING:
    from connectors.woocommerce.connector import WooCommerceConnector

TOKEN_TTL = 3600.0
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


def install_blueprint(connector: WooCommerceConnector) -> Blueprint:
    bp = Blueprint("woocommerce_install", __name__, url_prefix="/install/woocommerce")
    stores = connector.stores

    def app_url() -> str:
        url = str(connector.settings.get("app_url") or "").rstrip("/")
        if not url:
            raise ConfigError("connectors.woocommerce.app_url", "the hub's public URL is needed to install stores")
        return url

    @bp.get("")
    def start() -> Any:
        try:
            store_id = validate_store_url(
                request.args.get("store_url", ""), test_mode=bool(connector.settings.get("test_mode"))
            )
        except ValueError as exc:
            return _text(str(exc), 400)
        token = new_secret()
        stores.set_state(store_id, f"install:{token}", json.dumps({"issued": time.time(), "stage": "authorize"}))
        back = f"?store={quote(store_id, safe='')}"
        query = urlencode(
            {
                "app_name": connector.settings.get("app_name", "Refund Hub"),
                "scope": "read_write",
                "user_id": token,
                "return_url": f"{app_url()}/install/woocommerce/return{back}",
                "callback_url": f"{app_url()}/install/woocommerce/callback{back}",
            }
        )
        return redirect(f"{store_id}/wc-auth/v1/authorize?{query}", code=302)

    @bp.post("/callback")
    def callback() -> Response:
        store_id = request.args.get("store", "")
        data = request.get_json(force=True, silent=True) or {}
        token = str(data.get("user_id") or "")
        if _stage(stores, store_id, token) != "authorize":
            return _text("unknown or used user_id", 403)
        if data.get("key_permissions") != "read_write":
            return _text("Refund Hub needs read_write keys", 400)
        key, secret = data.get("consumer_key"), data.get("consumer_secret")
        if not (
            isinstance(key, str) and key.startswith("ck_") and isinstance(secret, str) and secret.startswith("cs_")
        ):
            return _text("consumer_key and consumer_secret missing", 400)
        old = stores.get(store_id)
        credentials = {**(old.credentials if old else {}), "consumer_key": key, "consumer_secret": secret}
        credentials.setdefault("webhook_secret", new_secret())
        settings = {**(old.settings if old else {}), "url": store_id, "key_id": str(data.get("key_id") or "")}
        stores.save(store_id, settings=settings, credentials=credentials)
        stores.set_state(store_id, f"install:{token}", json.dumps({"issued": time.time(), "stage": "keys"}))
        return _text("ok", 200)

    @bp.get("/return")
    def finish() -> Response:
        store_id = request.args.get("store", "")
        token = request.args.get("user_id", "")
        stage = _stage(stores, store_id, token)
        if stage is None:
            return _text("unknown or expired install", 403)
        stores.set_state(store_id, f"install:{token}", None)
        store = stores.get(store_id)
        if request.args.get("success") != "1" or stage != "keys" or store is None:
            return _text("WooCommerce did not grant Refund Hub access; nothing was installed.", 400)
        problems = connector.ensure_webhooks(store)
        failed = [str(p) for p in problems if not p.action.startswith(("created", "re-enabled"))]
        lines = [f"Refund Hub is connected to {store_id}."] + [f"Problem: {p}" for p in failed]
        return _text("\n".join(lines), 200 if not failed else 502)

    return bp


def _stage(stores: Any, store_id: str, token: str) -> str | None:
    """Where an install stands for this store and ``user_id``: None when unknown or expired."""
    raw = stores.get_state(store_id, f"install:{token}") if store_id and token else None
    if raw is None:
        return None
    state = json.loads(raw)
    if time.time() - float(state.get("issued", 0)) > TOKEN_TTL:
        return None
    return str(state.get("stage"))


def _text(body: str, status: int) -> Response:
    return Response(body + "\n", status=status, mimetype="text/plain")
