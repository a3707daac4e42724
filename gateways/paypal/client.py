"""The PayPal calls the adapter makes, each returning PayPal's JSON as a dict (or raising).

Payments v2 and Orders v2 go through the official ``paypal-server-sdk``, pointed at
``settings.base_url`` through a ``Configuration`` subclass (the SDK has no base-URL option).
The SDK never sends ``PayPal-Request-Id`` unless told and never retries a POST, so every
money-moving call here passes the hub's idempotency key explicitly. The one retry made here is
after a 401 (a token gone stale between fetch and use), with the same request and key.

What paypal-server-sdk lacks, the deprecated Payments v1 API (sale refunds) and
``/v1/notifications/verify-webhook-signature``, goes through ``RestClient``: plain ``requests``
with the account's shared token (``paypalrestsdk`` is deprecated and unsafe: no timeout,
unbounded re-auth).

The SDK client is made on first use (``PayPalApi.sdk``): a web process only verifies webhooks
through ``RestClient`` and never imports ``paypalserversdk``'s client, models or configuration.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests

from gateways.paypal.auth import TokenRefused, TokenSource
from gateways.paypal.settings import PayPalSettings
from gateways.paypal.transformers import ApiFailure, failure_from_body

if TYPE_CHECKING:
    from paypalserversdk.exceptions.api_exception import ApiException
    from paypalserversdk.models.refund_request import RefundRequest
    from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

REPRESENTATION = "return=representation"  # PayPal's default, return=minimal, omits the amount
# A 401 is refused before PayPal acts, so a request is sent at most twice: the second time with
# a freshly fetched token (the first expired or was revoked between fetch and use).
AUTH_ATTEMPTS = 2


class PayPalHttpError(Exception):
    """A non-2xx answer to a hand-written call, in the same terms as the SDK's ``ErrorException``."""

    def __init__(self, failure: ApiFailure) -> None:
        super().__init__(f"PayPal answered HTTP {failure.status} {failure.code}")
        self.failure = failure


class RestClient:
    def __init__(self, base_url: str, tokens: TokenSource, session: requests.Session, timeout: float) -> None:
        self._base_url = base_url
        self._tokens = tokens
        self._session = session
        self._timeout = timeout

    def post(self, path: str, body: bytes, request_id: str | None = None) -> dict[str, Any]:
        """POST raw JSON bytes (callers splice bodies that must not be re-serialised)."""
        headers = {"Content-Type": "application/json"}
        if request_id is not None:
            headers["PayPal-Request-Id"] = request_id
        return self._send("POST", path, headers, body)

    def post_json(self, path: str, body: Any, request_id: str | None = None) -> dict[str, Any]:
        return self.post(path, json.dumps(body).encode(), request_id)

    def get(self, path: str) -> dict[str, Any]:
        return self._send("GET", path, {}, None)

    def _send(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> dict[str, Any]:
        """One request; a 401 (the token went stale) is answered once with a new token, the same
        request and headers (so the same ``PayPal-Request-Id``)."""
        for attempt in range(AUTH_ATTEMPTS):
            bearer = self._tokens.bearer()
            sent = {**headers, "Accept": "application/json", "Authorization": f"Bearer {bearer}"}
            response = self._session.request(
                method, self._base_url + path, headers=sent, data=body, timeout=self._timeout
            )
            try:
                payload = response.json() if response.content else {}
            except ValueError:
                payload = None
            if 200 <= response.status_code < 300 and isinstance(payload, dict):
                return payload
            failure = failure_from_body(response.status_code, payload)
            if response.status_code != 401:
                raise PayPalHttpError(failure)
            self._tokens.invalidate(bearer)
            if attempt + 1 == AUTH_ATTEMPTS:
                raise TokenRefused(failure)
        raise AssertionError("unreachable")


def _sdk_client(settings: PayPalSettings, tokens: TokenSource, session: requests.Session) -> PaypalServersdkClient:
    """The SDK client on the shared session and token; ``get_base_uri`` is the SDK's only
    base-URL seam (sandbox, production or a simulator)."""
    from paypalserversdk.configuration import Configuration, Server
    from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
    from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

    class BaseUrlConfiguration(Configuration):  # type: ignore[misc]
        def get_base_uri(self, server: Server = Server.DEFAULT) -> str:
            return settings.base_url

    credentials = ClientCredentialsAuthCredentials(
        o_auth_client_id=settings.client_id,
        o_auth_client_secret=settings.client_secret,
        o_auth_token_provider=tokens.for_sdk,
    )
    return PaypalServersdkClient(
        config=BaseUrlConfiguration(
            timeout=settings.timeout,
            max_retries=0,
            http_client_instance=session,
            client_credentials_auth_credentials=credentials,
        )
    )


class PayPalApi:
    def __init__(self, settings: PayPalSettings) -> None:
        self.settings = settings
        self.session = requests.Session()
        self.tokens = TokenSource(
            settings.base_url, settings.client_id, settings.client_secret, settings.timeout, self.session
        )
        self.rest = RestClient(settings.base_url, self.tokens, self.session, settings.timeout)
        self._sdk_client: PaypalServersdkClient | None = None
        self._building = threading.Lock()

    @property
    def sdk(self) -> PaypalServersdkClient:
        """The SDK client, made by the first call that needs it."""
        with self._building:
            if self._sdk_client is None:
                self._sdk_client = _sdk_client(self.settings, self.tokens, self.session)
            return self._sdk_client

    # -- Payments v2 / Orders v2 (SDK) ---------------------------------------------------------
    def refund_capture(self, capture_id: str, key: str, body: RefundRequest) -> dict[str, Any]:
        options = {"capture_id": capture_id, "paypal_request_id": key, "prefer": REPRESENTATION, "body": body}
        return self._sdk(self.sdk.payments.refund_captured_payment, options)

    def void_authorization(self, authorization_id: str, key: str) -> dict[str, Any]:
        options = {"authorization_id": authorization_id, "paypal_request_id": key, "prefer": REPRESENTATION}
        return self._sdk(self.sdk.payments.void_payment, options)

    def refund(self, refund_id: str) -> dict[str, Any]:
        return self._sdk(self.sdk.payments.get_refund, {"refund_id": refund_id})

    def capture(self, capture_id: str) -> dict[str, Any]:
        return self._sdk(self.sdk.payments.get_captured_payment, {"capture_id": capture_id})

    def authorization(self, authorization_id: str) -> dict[str, Any]:
        return self._sdk(self.sdk.payments.get_authorized_payment, {"authorization_id": authorization_id})

    def order(self, order_id: str) -> dict[str, Any]:
        return self._sdk(self.sdk.orders.get_order, {"id": order_id})

    # -- Payments v1 (deprecated; hand-written) ------------------------------------------------
    def refund_sale(self, sale_id: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.rest.post_json(f"/v1/payments/sale/{sale_id}/refund", body, request_id=key)

    def sale(self, sale_id: str) -> dict[str, Any]:
        return self.rest.get(f"/v1/payments/sale/{sale_id}")

    def sale_refund(self, refund_id: str) -> dict[str, Any]:
        return self.rest.get(f"/v1/payments/refund/{refund_id}")

    def close(self) -> None:
        self.session.close()

    def _sdk(self, call: Callable[[dict[str, Any]], Any], options: dict[str, Any]) -> dict[str, Any]:
        """One SDK call; a 401 (the token went stale) is answered once with a new token and the
        same ``options`` (so the same ``PayPal-Request-Id``): the SDK asks ``tokens`` again."""
        from paypalserversdk.exceptions.api_exception import ApiException

        for attempt in range(AUTH_ATTEMPTS):
            try:
                response = call(options)
            except ApiException as exc:
                if exc.response_code != 401:
                    raise
                self.tokens.invalidate(_bearer_of(exc))
                if attempt + 1 == AUTH_ATTEMPTS:
                    raise TokenRefused(sdk_failure(exc)) from exc
                continue
            text = response.text or ""
            return json.loads(text) if text.strip() else {}
        raise AssertionError("unreachable")


def sdk_failure(exc: ApiException) -> ApiFailure:
    """PayPal's error answer carried by an SDK exception."""
    try:
        body = json.loads(exc.response.text or "null")
    except (ValueError, AttributeError):
        body = None
    return failure_from_body(exc.response_code, body)


def _bearer_of(exc: ApiException) -> str | None:
    """The access token the refused request carried (``Authorization: Bearer <token>``)."""
    headers = getattr(getattr(exc.response, "request", None), "headers", None) or {}
    value = next((v for k, v in headers.items() if str(k).lower() == "authorization"), None)
    return str(value).removeprefix("Bearer ") if value else None
