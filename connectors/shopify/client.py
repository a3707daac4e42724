"""One store's Admin GraphQL API: the ``shopify_app`` request function with THAT store's token,
over an HTTP client with explicit timeouts, simulator routing and send tracking.

Reads raise ``PlatformUnavailable`` (retry later) or ``PlatformError``; ``execute`` returns a
``Reply`` that says how far a call got, so money-moving mutations can tell "surely not sent"
from "maybe applied". Tokens are refreshed before expiry and the rotated pair is saved at once.

``shopify_app`` builds every URL as ``https://{shop}.myshopify.com/...``. With an ``admin_url``
template (test mode) the transport re-points those requests at the simulator. It also records
whether a failure happened before anything left the machine (connection refused or connect
timeout), which is what lets a refund call say ``unavailable`` instead of ``unknown``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectors.shopify.auth import ShopToken, TokenRevoked, migrate_token, refreshed
from connectors.shopify.settings import API_VERSION, AppSettings, shop_name
from hub.contracts import StoreContext, StoreDirectory
from hub.errors import PlatformError, PlatformUnavailable

if TYPE_CHECKING:
    import httpx

    from connectors.shopify.transport import ShopTransport

log = logging.getLogger(__name__)

NOT_SENT = "not_sent"  # nothing left the machine: safe to try again
NO_ANSWER = "no_answer"  # sent, answer lost: may have been applied
HTTP = "http"
GRAPHQL = "graphql"
TRANSIENT_CODES = ("THROTTLED", "INTERNAL_SERVER_ERROR")


@dataclass(frozen=True)
class Reply:
    status: int  # HTTP status, 0 when no answer arrived
    data: Mapping[str, Any] | None = None
    errors: tuple[Mapping[str, Any], ...] = ()
    failure: str | None = None

    @property
    def transient(self) -> bool:
        """Worth another try later: no answer, throttled, or Shopify's own trouble."""
        if self.failure in (NOT_SENT, NO_ANSWER) or self.status == 429 or self.status >= 500:
            return True
        return any((e.get("extensions") or {}).get("code") in TRANSIENT_CODES for e in self.errors)

    def codes(self) -> set[str]:
        """The GraphQL error codes of the answer (``extensions.code``)."""
        return {str((e.get("extensions") or {}).get("code")) for e in self.errors}

    def describe(self) -> str:
        if self.errors:
            return "; ".join(str(e.get("message", e)) for e in self.errors)[:300]
        return f"{self.failure or 'ok'} (HTTP {self.status})"


class AdminClient:
    """Use as a context manager; one per connector operation on one store."""

    def __init__(self, app: AppSettings, stores: StoreDirectory, store: StoreContext) -> None:
        self.app = app
        self.stores = stores
        self.store = store
        self.token = ShopToken.from_credentials(store.credentials)
        self._client, self._transport = shop_client(app)

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def read(self, query: str, variables: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        reply = self.execute(query, variables)
        if reply.failure is None and reply.data is not None:
            return reply.data
        if reply.transient:
            raise PlatformUnavailable(f"Shopify {self.store.id}: {reply.describe()}")
        raise PlatformError(f"Shopify {self.store.id}: {reply.describe()}")

    def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> Reply:
        """Send one operation; token trouble before sending raises (nothing was sent)."""
        token = self._current_token()
        reply = self._send(query, variables, token)
        if reply.status == 401 and self.token.refresh_token:
            # revoked or expired ahead of its stated time: refresh once and try again
            token = self._current_token(force=True)
            reply = self._send(query, variables, token)
        return reply

    def _send(self, query: str, variables: Mapping[str, Any] | None, token: str) -> Reply:
        from shopify_app import admin_graphql_request  # the SDK on first use, not in the web tier

        try:
            result = admin_graphql_request(
                query,
                shop=shop_name(self.store.id),
                access_token=token,
                api_version=API_VERSION,
                variables=dict(variables or {}),
                max_retries=self.app.max_retries,
                http_client=self._client,
            )
        except Exception:  # noqa: BLE001 - e.g. an unparsable Retry-After: the request may have been sent
            return Reply(status=0, failure=NOT_SENT if self._transport.surely_not_sent else NO_ANSWER)
        if result.ok:
            return Reply(status=200, data=result.data or {})
        code = result.log.code
        if code == "network_error":
            return Reply(status=0, failure=NOT_SENT if self._transport.surely_not_sent else NO_ANSWER)
        body = _json(result.response.body)
        if code == "graphql_errors":
            return Reply(status=200, data=body.get("data"), errors=_errors(body), failure=GRAPHQL)
        return Reply(status=result.response.status or 0, errors=_errors(body), failure=HTTP)

    def _current_token(self, *, force: bool = False) -> str:
        if not self.token.refresh_token and not self.token.expires and "token_migration" not in self.store.settings:
            self._migrate()
        try:
            new = refreshed(self.app, self.store.id, self.token, self._client, force=force)
        except TokenRevoked:
            # another worker may have rotated the refresh token a moment ago: take the stored one
            latest = self.stores.get(self.store.id)
            if latest is None or latest.credentials.get("refresh_token") in (None, "", self.token.refresh_token):
                raise
            self.store, self.token = latest, ShopToken.from_credentials(latest.credentials)
            new = refreshed(self.app, self.store.id, self.token, self._client, force=force)
        if new is not None:
            credentials = {**self.store.credentials, **new.credentials()}
            self.store = self.stores.save(self.store.id, settings=self.store.settings, credentials=credentials)
            self.token = new
        return self.token.access_token

    def _migrate(self) -> None:
        """Move a non-expiring offline token to an expiring one once; a refusal (a custom app's
        token, which Shopify exempts) is noted and the old token kept; no answer: next call tries."""
        try:
            new = migrate_token(self.app, self.store.id, self.token.access_token, self._client)
        except PlatformUnavailable:
            return
        except PlatformError as exc:
            log.warning("Shopify kept the non-expiring token of %s: %s", self.store.id, exc)
            settings = {**self.store.settings, "token_migration": f"refused: {str(exc)[:200]}"}
            self.store = self.stores.save(self.store.id, settings=settings, credentials=self.store.credentials)
            return
        credentials = {**self.store.credentials, **new.credentials()}
        settings = {**self.store.settings, "token_migration": "expiring"}
        self.store = self.stores.save(self.store.id, settings=settings, credentials=credentials)
        self.token = new


def _errors(body: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    errors = body.get("errors") or ()
    if isinstance(errors, str):  # REST-style {"errors": "[API] Invalid API key or access token"}
        return ({"message": errors},)
    return tuple(e for e in errors if isinstance(e, Mapping))


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def shop_client(app: AppSettings) -> tuple[httpx.Client, ShopTransport]:
    """An httpx client through the app's ``ShopTransport`` (``connectors.shopify.transport``,
    imported here on first use: the web tier's webhook path never needs httpx)."""
    from connectors.shopify.transport import shop_client as make

    return make(app)
