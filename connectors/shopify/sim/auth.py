"""The simulator's OAuth endpoints: authorize (the merchant approves at once) and the token endpoint.

The token endpoint hands out expiring offline tokens with a refresh token when asked with
``expiring=1``, and rotates the refresh token on every ``grant_type=refresh_token`` use. Token
exchange (``grant_type=urn:ietf:params:oauth:grant-type:token-exchange``) takes an embedded app's ID
token (HS256, signed with the app secret, ``aud`` the client id, ``dest`` the shop; Shopify answers
400 to a bad or expired one) or, to migrate, a non-expiring offline token: that token stops working,
and asking again with it within 7 days returns the same pair.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import jwt
from flask import Response, jsonify, redirect, request

from connectors.shopify.settings import SCOPES
from hub.testing.signing import hmac_hex

if TYPE_CHECKING:
    from connectors.shopify.sim.server import ShopifySimulator

REFRESH_TTL = 90 * 86400
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"
MIGRATION_REPLAY = 7 * 86400


def sign_query(secret: str, params: Mapping[str, str]) -> str:
    """Shopify's OAuth query signature: hex HMAC-SHA256 of ``k=v`` pairs sorted and joined by ``&``."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    return hmac_hex(secret, message.encode())


def error_response(body: Any, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def authorize(sim: ShopifySimulator, shop: str) -> Any:
    """The merchant approves at once: back to ``redirect_uri`` with a signed code."""
    if shop not in sim.shops:
        return error_response({"errors": "Not Found"}, 404)
    args = request.args
    if args.get("client_id") != sim.api_key:
        return error_response({"errors": "Invalid client_id"}, 400)
    unknown = set(filter(None, (args.get("scope") or "").split(","))) - set(SCOPES)
    if unknown or not (args.get("redirect_uri") or "").startswith(("http://", "https://")):
        return error_response({"errors": "Invalid scope or redirect_uri"}, 400)
    code = secrets.token_hex(16)
    sim.codes[code] = (shop, time.time() + 600)
    params = {
        "code": code,
        "host": base64.b64encode(f"{shop}/admin".encode()).decode(),
        "shop": shop,
        "state": args.get("state", ""),
        "timestamp": str(int(time.time())),
    }
    params["hmac"] = sim.sign_query(params)
    return redirect(f"{args['redirect_uri']}?{urlencode(params)}")


def _exchanged(sim: ShopifySimulator, sim_shop: Any, body: Mapping[str, Any]) -> dict[str, Any] | Response:
    kind = body.get("subject_token_type")
    subject = str(body.get("subject_token") or "")
    expiring = str(body.get("expiring")) == "1"
    if kind == ID_TOKEN:
        try:
            claims = jwt.decode(subject, sim.api_secret, algorithms=["HS256"], audience=sim.api_key, leeway=10)
        except jwt.PyJWTError:
            return error_response({"error": "invalid_subject_token", "error_description": "bad id_token"}, 400)
        if urlsplit(str(claims.get("dest", ""))).hostname != sim_shop.domain:
            return error_response({"error": "invalid_subject_token", "error_description": "wrong shop"}, 400)
        sim.exchanges_of_id_tokens += 1
        return sim_shop.issue(expiring=expiring, ttl=sim.token_ttl, refresh_ttl=REFRESH_TTL)
    if kind == OFFLINE_TOKEN and body.get("requested_token_type") == OFFLINE_TOKEN:
        replay = sim_shop.migrated.get(subject)
        if replay is not None and replay[0] > time.time():
            return replay[1]
        if subject in sim_shop.custom_app_tokens or sim_shop.access_tokens.get(subject, 0.0) is not None:
            refused = {"error": "invalid_subject_token", "error_description": "not a non-expiring token"}
            return error_response(refused, 400)
        del sim_shop.access_tokens[subject]  # the old token stops working
        grant = sim_shop.issue(expiring=True, ttl=sim.token_ttl, refresh_ttl=REFRESH_TTL)
        sim_shop.migrated[subject] = (time.time() + MIGRATION_REPLAY, grant)
        return grant
    return error_response({"error": "unsupported_token_type"}, 400)


def access_token(sim: ShopifySimulator, shop: str) -> Any:
    body = request.get_json(silent=True) or request.form.to_dict()
    sim_shop = sim.shops.get(shop)
    if sim_shop is None or body.get("client_id") != sim.api_key or body.get("client_secret") != sim.api_secret:
        return error_response({"error": "invalid_client", "error_description": "Client credentials are invalid"}, 401)
    with sim.lock:
        if body.get("grant_type") == "refresh_token":
            expiry = sim_shop.refresh_tokens.pop(str(body.get("refresh_token")), None)  # rotates on use
            if expiry is None or expiry < time.time():
                return error_response({"error": "invalid_grant", "error_description": "Refresh token is invalid"}, 400)
            sim_shop.refreshes += 1
            grant = sim_shop.issue(expiring=True, ttl=sim.token_ttl, refresh_ttl=REFRESH_TTL)
        elif body.get("grant_type") == TOKEN_EXCHANGE:
            found = _exchanged(sim, sim_shop, body)
            if isinstance(found, Response):
                return found
            grant = found
        else:
            entry = sim.codes.pop(str(body.get("code")), None)
            if entry is None or entry[0] != shop or entry[1] < time.time():
                return error_response(
                    {"error": "invalid_grant", "error_description": "Authorization code is invalid"}, 400
                )
            grant = sim_shop.issue(
                expiring=str(body.get("expiring")) == "1", ttl=sim.token_ttl, refresh_ttl=REFRESH_TTL
            )
        sim.grants[shop] = grant
    return jsonify(grant)
