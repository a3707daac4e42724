"""One OAuth 2 access token per PayPal account, shared by the SDK and the hand-written calls.

``POST /v1/oauth2/token`` with Basic auth and ``grant_type=client_credentials``; the token is
cached until ``expires_in`` (less a minute). The SDK gets it through its documented
``o_auth_token_provider`` hook. A failed token request means the call that needed it was never
sent; it surfaces as ``TokenError`` with PayPal's answer, where the SDK's own token handling
would swallow the answer and raise a bare ``AuthValidationException``. The SDK's ``OAuthToken``
is made only when the SDK asks: verifying a webhook uses the bearer alone and imports no SDK.

A token can stop working before ``expires_in`` says (PayPal ends it early, it is revoked, or it
expires while the request is on its way): PayPal answers 401 before acting on the request. The
callers then ``invalidate`` that token and send the same request once more with a new one
(``client``); a 401 for the new token as well is ``TokenRefused``.
"""

from __future__ import annotations

import calendar
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import requests

from gateways.paypal.transformers import ApiFailure, failure_from_body

if TYPE_CHECKING:
    from paypalserversdk.models.o_auth_token import OAuthToken

EARLY_REFRESH = 60.0  # seconds before expiry a token is replaced


@dataclass
class _Issued:
    """One token PayPal issued, and the SDK's ``OAuthToken`` for it once the SDK asked."""

    access_token: str
    token_type: str
    expires_in: Any
    expiry: int  # in the SDK's clock (apimatic ``AuthHelper.get_current_utc_timestamp``)
    for_sdk: OAuthToken | None = None


def _sdk_clock() -> int:
    """apimatic's ``AuthHelper.get_current_utc_timestamp``, the clock the SDK compares ``expiry`` with."""
    return calendar.timegm(datetime.now().utctimetuple())


class TokenError(Exception):
    """No access token: the request that needed it was never sent.

    ``failure`` is PayPal's answer when there was one (401 ``invalid_client``: bad
    credentials); ``None`` when the token endpoint could not be reached at all.
    """

    def __init__(self, message: str, failure: ApiFailure | None = None) -> None:
        super().__init__(message)
        self.failure = failure


class TokenRefused(Exception):
    """PayPal refused a token it had just issued (401 twice): the request was not acted on."""

    def __init__(self, failure: ApiFailure) -> None:
        super().__init__(f"PayPal refused a freshly issued access token: {failure.description or failure.code}")
        self.failure = failure


class TokenSource:
    def __init__(
        self, base_url: str, client_id: str, client_secret: str, timeout: float, session: requests.Session
    ) -> None:
        self._url = f"{base_url}/v1/oauth2/token"
        self._credentials = (client_id, client_secret)
        self._timeout = timeout
        self._session = session
        self._lock = threading.Lock()
        self._token: _Issued | None = None
        self._valid_until = 0.0

    def bearer(self) -> str:
        return self._current().access_token

    def for_sdk(self, last_token: OAuthToken | None = None, auth_manager: object = None) -> OAuthToken:
        """The SDK's ``o_auth_token_provider(last_token, auth_manager)``: one ``OAuthToken`` per
        issued token, so ``invalidate`` can expire the very object the SDK holds."""
        from paypalserversdk.models.o_auth_token import OAuthToken

        issued = self._current()
        with self._lock:
            if issued.for_sdk is None:
                issued.for_sdk = OAuthToken(
                    access_token=issued.access_token,
                    token_type=issued.token_type,
                    expires_in=issued.expires_in,
                    expiry=issued.expiry,
                )
            return issued.for_sdk

    def invalidate(self, refused: str | None = None) -> None:
        """Forget the token after PayPal refused it; the SDK holds the same object, so expire it.

        ``refused`` is the access token PayPal turned down: when another call has already
        replaced it, the new token is kept.
        """
        with self._lock:
            if self._token is None or (refused is not None and self._token.access_token != refused):
                return
            if self._token.for_sdk is not None:
                self._token.for_sdk.expiry = 0
            self._token = None

    def _current(self) -> _Issued:
        with self._lock:
            if self._token is None or time.monotonic() >= self._valid_until:
                self._token = self._fetch()
            return self._token

    def _fetch(self) -> _Issued:
        try:
            response = self._session.post(
                self._url,
                auth=self._credentials,
                data={"grant_type": "client_credentials"},
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise TokenError(f"PayPal token endpoint unreachable: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            failure = failure_from_body(response.status_code, body)
            raise TokenError(f"PayPal refused the access token request: {failure.description or failure.code}", failure)
        lifetime = max(float(body.get("expires_in", 0)) - EARLY_REFRESH, 0.0)
        self._valid_until = time.monotonic() + lifetime
        # The SDK compares ``expiry`` with its own clock helper, so express it in those terms.
        return _Issued(
            access_token=str(body["access_token"]),
            token_type=body.get("token_type", "Bearer"),
            expires_in=body.get("expires_in"),
            expiry=_sdk_clock() + int(lifetime),
        )
