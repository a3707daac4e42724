"""Magento's integration OAuth 1.0a, server side, for the simulator.

Consumers are created when an integration is activated (or preinstalled for the seeded store);
``POST /oauth/token/request`` and ``POST /oauth/token/access`` hand out the request and access
tokens; every REST call must carry a valid HMAC-SHA256 (or HMAC-SHA1) OAuth signature over the
method, the URL as sent and the query parameters, or, where allowed, the access token as bearer.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from flask import Blueprint, Response, request
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header, unescape

from connectors.magento.sim.state import MagentoFault

SIGNERS = {
    "HMAC-SHA256": oauth_signature.sign_hmac_sha256_with_client,
    "HMAC-SHA1": oauth_signature.sign_hmac_sha1_with_client,
}
CONSUMER_TTL = 300.0  # Magento's "Consumer Key Expiration Period" default, for the token exchange


def _token() -> str:
    return secrets.token_hex(16)


@dataclass
class Consumer:
    key: str
    secret: str
    verifier: str
    created: float = field(default_factory=time.time)
    active: bool = False


class OAuthServer:
    def __init__(self, allow_bearer: bool = False) -> None:
        self.allow_bearer = allow_bearer
        self.consumers: dict[str, Consumer] = {}
        self.request_tokens: dict[str, tuple[str, str]] = {}  # token -> (secret, consumer key)
        self.access_tokens: dict[str, tuple[str, str]] = {}
        self._nonces: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def new_consumer(self) -> Consumer:
        consumer = Consumer(key=_token(), secret=_token(), verifier=_token())
        with self._lock:
            self.consumers[consumer.key] = consumer
        return consumer

    def preinstalled(self, given: Mapping[str, str] | None = None) -> dict[str, str]:
        """An active integration with its access token, as if activated long ago; ``given`` fixes its
        four OAuth credentials (a sandbox configured ahead of the simulator)."""
        given = given or {}
        consumer = Consumer(
            key=given.get("consumer_key") or _token(),
            secret=given.get("consumer_secret") or _token(),
            verifier=_token(),
            active=True,
        )
        token, secret = given.get("access_token") or _token(), given.get("access_token_secret") or _token()
        with self._lock:
            self.consumers[consumer.key] = consumer
            self.access_tokens[token] = (secret, consumer.key)
        return {
            "consumer_key": consumer.key,
            "consumer_secret": consumer.secret,
            "access_token": token,
            "access_token_secret": secret,
        }

    def authenticate(self, raw_path: str) -> str:
        """The consumer key of a correctly signed request (or a permitted bearer token)."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and self.allow_bearer and header[7:] in self.access_tokens:
            return self.access_tokens[header[7:]][1]
        params = self._check(header, raw_path)
        token = params.get("oauth_token", "")
        if token not in self.access_tokens or self.access_tokens[token][1] != params["oauth_consumer_key"]:
            raise _unauthorized()
        return params["oauth_consumer_key"]

    def _check(self, header: str, raw_path: str, token_secret: str | None = None) -> dict[str, str]:
        params = _header_params(header)
        consumer = self.consumers.get(params.get("oauth_consumer_key", ""))
        signer = SIGNERS.get(params.get("oauth_signature_method", ""))
        if consumer is None or signer is None:
            raise _unauthorized()
        if token_secret is None:
            token_secret = self.access_tokens.get(params.get("oauth_token", ""), ("", ""))[0]
        query = request.query_string.decode()
        form = request.get_data(as_text=True) if request.mimetype == "application/x-www-form-urlencoded" else None
        collected = oauth_signature.collect_parameters(uri_query=query, body=form, headers={"Authorization": header})
        uri = oauth_signature.base_string_uri(f"{request.scheme}://{request.host}{raw_path}")
        base = oauth_signature.signature_base_string(
            request.method, uri, oauth_signature.normalize_parameters(collected)
        )
        expected = signer(base, SimpleNamespace(client_secret=consumer.secret, resource_owner_secret=token_secret))
        nonce = (params.get("oauth_nonce", ""), params.get("oauth_timestamp", ""))
        with self._lock:
            if not hmac.compare_digest(expected, params.get("oauth_signature", "")) or nonce in self._nonces:
                raise _unauthorized()
            self._nonces.add(nonce)
        return params

    def blueprint(self) -> Blueprint:
        routes = Blueprint("magento_sim_oauth", __name__)

        @routes.post("/oauth/token/request")
        def request_token() -> Response:
            params = self._check(request.headers.get("Authorization", ""), request.path, token_secret="")
            consumer = self.consumers[params["oauth_consumer_key"]]
            if time.time() - consumer.created > CONSUMER_TTL:
                raise MagentoFault(401, "Consumer key has expired")
            token, secret = _token(), _token()
            self.request_tokens[token] = (secret, consumer.key)
            return _form(oauth_token=token, oauth_token_secret=secret)

        @routes.post("/oauth/token/access")
        def access_token() -> Response:
            header = request.headers.get("Authorization", "")
            claimed = _header_params(header)
            secret, key = self.request_tokens.get(claimed.get("oauth_token", ""), ("", ""))
            params = self._check(header, request.path, token_secret=secret)
            consumer = self.consumers[params["oauth_consumer_key"]]
            if key != consumer.key or params.get("oauth_verifier") != consumer.verifier:
                raise _unauthorized()
            del self.request_tokens[params["oauth_token"]]
            token, token_secret = _token(), _token()
            self.access_tokens[token] = (token_secret, consumer.key)
            consumer.active = True
            return _form(oauth_token=token, oauth_token_secret=token_secret)

        return routes


def _header_params(header: str) -> dict[str, str]:
    try:
        return {key: unescape(value) for key, value in parse_authorization_header(header)}
    except ValueError:
        raise _unauthorized() from None


def _form(**values: Any) -> Response:
    return Response("&".join(f"{k}={v}" for k, v in values.items()), mimetype="text/plain")


def _unauthorized() -> MagentoFault:
    return MagentoFault(401, "The consumer isn't authorized to access %1.", ["Magento_Sales::sales"])
