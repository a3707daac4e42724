"""Offline access tokens: the authorization-code exchange (``expiring=1``) and refresh before expiry.

Shopify's expiring offline tokens live 60 minutes and come with a refresh token that rotates on
every use; public apps must use them from 2027-01-01. The refresh itself is the ``shopify_app``
package's ``refresh_access_token`` (it skips the call while the token has more than 60 s left).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.shopify.settings import AppSettings, shop_name
from hub.errors import PlatformError, PlatformUnavailable

if TYPE_CHECKING:  # httpx and shopify_app are imported by the calls (not in the web tier's webhook path)
    import httpx

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"
_REVOKED = ("invalid_grant", "refresh_token_expired", "invalid_client")


class TokenRevoked(PlatformError):
    """The shop's grant is gone (uninstalled, revoked, refresh token expired): re-install needed."""


@dataclass(frozen=True)
class ShopToken:
    access_token: str
    refresh_token: str = ""
    expires: str = ""  # ISO 8601 UTC; empty for a non-expiring token
    refresh_token_expires: str = ""
    scope: str = ""

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, str]) -> ShopToken:
        token = credentials.get("access_token", "")
        if not token:
            raise PlatformError("store has no Shopify access token; install the app first")
        return cls(
            access_token=token,
            refresh_token=credentials.get("refresh_token", ""),
            expires=credentials.get("expires", ""),
            refresh_token_expires=credentials.get("refresh_token_expires", ""),
            scope=credentials.get("scope", ""),
        )

    @classmethod
    def from_grant(cls, body: Mapping[str, Any]) -> ShopToken:
        """The token endpoint's answer: ``access_token``, ``scope``, and when expiring ``expires_in``,
        ``refresh_token``, ``refresh_token_expires_in`` (seconds)."""
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=str(body.get("refresh_token") or ""),
            expires=_in_seconds(body.get("expires_in")),
            refresh_token_expires=_in_seconds(body.get("refresh_token_expires_in")),
            scope=str(body.get("scope") or ""),
        )

    def credentials(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


def _in_seconds(seconds: Any) -> str:
    if not seconds:
        return ""
    return (datetime.now(UTC) + timedelta(seconds=int(seconds))).strftime("%Y-%m-%dT%H:%M:%SZ")


def refreshed(
    app: AppSettings, store_id: str, token: ShopToken, client: httpx.Client, *, force: bool = False
) -> ShopToken | None:
    """A new token when the current one is (about to be) expired, or ``force``; None if it is still good."""
    if not token.refresh_token:
        return None
    from shopify_app import refresh_access_token

    try:
        result = refresh_access_token(
            {
                "shop": shop_name(store_id),
                "refresh_token": token.refresh_token,
                # an empty expiry makes the package refresh unconditionally
                "expires": "" if force else token.expires,
                "refresh_token_expires": token.refresh_token_expires,
                "access_mode": "offline",
            },
            {"client_id": app.api_key, "client_secret": app.api_secret, "old_client_secret": None},
            http_client=client,
        )
    except Exception as exc:  # the package must not leak its own errors past this adapter
        raise PlatformUnavailable(f"token refresh for {store_id} failed: {exc}") from exc
    if result.ok:
        if result.access_token is None:
            return None
        new = result.access_token
        return ShopToken(
            access_token=new.token,
            refresh_token=new.refresh_token or "",
            expires=new.expires or "",
            refresh_token_expires=new.refresh_token_expires or "",
            scope=new.scope or token.scope,
        )
    if result.log.code in _REVOKED:
        raise TokenRevoked(
            f"Shopify refused to refresh the token of {store_id} ({result.log.code}); re-install the app"
        )
    raise PlatformUnavailable(f"token refresh for {store_id} failed ({result.log.code})")


def exchange_code(app: AppSettings, shop: str, code: str, client: httpx.Client) -> ShopToken:
    """Authorization-code grant, asking for an expiring offline token with a refresh token."""
    body = {"client_id": app.api_key, "client_secret": app.api_secret, "code": code, "expiring": "1"}
    return _grant(shop, body, client, "token exchange")


def migrate_token(app: AppSettings, shop: str, old_token: str, client: httpx.Client) -> ShopToken:
    """A non-expiring offline token traded for an expiring one with a refresh token (Shopify stops
    accepting non-expiring tokens of public apps on 2027-01-01). The old token stops working; a lost
    answer may be asked again within 7 days and Shopify returns the same pair."""
    body = {
        "client_id": app.api_key,
        "client_secret": app.api_secret,
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": old_token,
        "subject_token_type": OFFLINE_TOKEN,
        "requested_token_type": OFFLINE_TOKEN,
        "expiring": "1",
    }
    return _grant(shop, body, client, "token migration")


def _grant(shop: str, body: Mapping[str, str], client: httpx.Client, what: str) -> ShopToken:
    """One call to the shop's token endpoint; a 5xx, a 429 or no answer is "try again later"."""
    import httpx

    try:
        response = client.post(
            f"https://{shop}/admin/oauth/access_token", json=dict(body), headers={"Accept": "application/json"}
        )
    except httpx.HTTPError as exc:
        raise PlatformUnavailable(f"{what} with {shop} failed: {exc}") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise PlatformUnavailable(f"{what} with {shop} answered {response.status_code}")
    if response.status_code != 200:
        raise PlatformError(f"{what} with {shop} refused ({response.status_code}): {response.text[:200]}")
    try:
        return ShopToken.from_grant(response.json())
    except (ValueError, KeyError) as exc:
        raise PlatformError(f"{what} with {shop} gave an unreadable answer") from exc
