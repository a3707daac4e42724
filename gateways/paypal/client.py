"""The PayPal calls the adapter makes, each returning PayPal's JSON as a dict (or raising).

Payments v2 and Orders v2 go through the official ``paypal-server-sdk``, pointed at
``settings.base_url`` through a ``Configuration`` subclass (the SDK has no base-URL option);
the deprecated v1 sale refund and webhook verification go through ``rest.RestClient``.
The SDK never sends ``PayPal-Request-Id`` unless told and never retries a POST, so every
money-moving call here passes the hub's idempotency key explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests
from paypalserversdk.configuration import Configuration, Server
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.refund_request import RefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from gateways.paypal.auth import TokenSource
from gateways.paypal.rest import RestClient
from gateways.paypal.settings import PayPalSettings

REPRESENTATION = "return=representation"  # PayPal's default, return=minimal, omits the amount


class _BaseUrlConfiguration(Configuration):
    """The SDK's only base-URL seam: ``get_base_uri`` (sandbox, production or a simulator)."""

    def __init__(self, base_url: str, **options: Any) -> None:
        self._base_url = base_url
        super().__init__(**options)

    def get_base_uri(self, server: Server = Server.DEFAULT) -> str:
        return self._base_url


class PayPalApi:
    def __init__(self, settings: PayPalSettings) -> None:
        self.session = requests.Session()
        self.tokens = TokenSource(
            settings.base_url, settings.client_id, settings.client_secret, settings.timeout, self.session
        )
        self.rest = RestClient(settings.base_url, self.tokens, self.session, settings.timeout)
        credentials = ClientCredentialsAuthCredentials(
            o_auth_client_id=settings.client_id,
            o_auth_client_secret=settings.client_secret,
            o_auth_token_provider=self.tokens.for_sdk,
        )
        self.sdk = PaypalServersdkClient(
            config=_BaseUrlConfiguration(
                settings.base_url,
                timeout=settings.timeout,
                max_retries=0,
                http_client_instance=self.session,
                client_credentials_auth_credentials=credentials,
            )
        )

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
        try:
            response = call(options)
        except ApiException as exc:
            if exc.response_code == 401:
                self.tokens.invalidate()
            raise
        text = response.text or ""
        return json.loads(text) if text.strip() else {}
