"""Hand-written ``requests`` calls for what paypal-server-sdk lacks: v1 sale refunds and webhook checks.

The deprecated Payments v1 API and ``/v1/notifications/verify-webhook-signature`` are not in
the SDK; ``paypalrestsdk`` is deprecated and unsafe (no timeout, unbounded re-auth), so these
few calls use plain ``requests`` with the account's shared token.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from gateways.paypal.auth import TokenSource
from gateways.paypal.transformers import ApiFailure, failure_from_body


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
        headers = {**headers, "Accept": "application/json", "Authorization": f"Bearer {self._tokens.bearer()}"}
        response = self._session.request(
            method, self._base_url + path, headers=headers, data=body, timeout=self._timeout
        )
        try:
            payload = response.json() if response.content else {}
        except ValueError:
            payload = None
        if not 200 <= response.status_code < 300 or not isinstance(payload, dict):
            if response.status_code == 401:
                self._tokens.invalidate()
            raise PayPalHttpError(failure_from_body(response.status_code, payload))
        return payload
