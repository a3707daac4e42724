"""The PayPal simulator's OAuth 2 token endpoint: client credentials in, a bearer token out."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from flask import jsonify, request

from gateways.paypal.sim import shapes

if TYPE_CHECKING:
    from gateways.paypal.sim.server import PayPalSimulator

REFUND_SCOPES = (
    "https://uri.paypal.com/services/payments/refund https://uri.paypal.com/services/payments/payment/authcapture"
)


def token(sim: PayPalSimulator) -> Any:
    """``POST /v1/oauth2/token``: client credentials for a bearer token of ``token_ttl`` seconds."""
    auth = request.authorization
    if auth is None or (auth.username, auth.password) != (sim.client_id, sim.client_secret):
        return jsonify(shapes.oauth_error("invalid_client", "Client Authentication failed")), 401
    if request.form.get("grant_type") != "client_credentials":
        return jsonify(shapes.oauth_error("unsupported_grant_type", "Grant Type is NULL")), 400
    token = f"A21AA{secrets.token_urlsafe(40)}"
    sim.tokens[token] = time.time() + sim.token_ttl
    return jsonify(
        {
            "scope": REFUND_SCOPES,
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": sim.token_ttl,
            "nonce": secrets.token_hex(16),
        }
    )
