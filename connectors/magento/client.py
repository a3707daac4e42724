"""A small REST client for one Magento store, with that store's own credentials and explicit timeouts.

Authentication is the integration's OAuth 1.0a (HMAC-SHA256, key ``consumer_secret&token_secret``)
or, where the store allows integration tokens as bearer tokens (off by default since 2.4.4), a
``bearer_token`` credential. Transport and HTTP failures become hub errors here, split by whether a
write may have taken effect: Magento has no idempotency keys, so a lost write is ``MaybeApplied``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests
from urllib3.exceptions import NewConnectionError

from connectors.magento import bodies
from connectors.magento.network import UnsafeURL, pinned, pinned_adapter
from connectors.magento.transformers import error_message
from hub.contracts import StoreContext
from hub.errors import PlatformError, PlatformUnavailable

DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
OAUTH_CREDENTIALS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


class MagentoError(PlatformError):
    """Magento answered with an error status; ``status`` and its message say which."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Magento {status}: {message}")
        self.status = status
        self.message = message


class NotFound(MagentoError):
    pass


class MaybeApplied(PlatformError):
    """A write was sent and its answer lost (timeout, reset, 5xx): it may have taken effect."""


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def store_auth(credentials: Mapping[str, str]) -> requests.auth.AuthBase:
    if credentials.get("bearer_token"):
        return BearerAuth(credentials["bearer_token"])
    missing = [key for key in OAUTH_CREDENTIALS if not credentials.get(key)]
    if missing:
        raise PlatformError(f"Magento store credentials lack {', '.join(missing)}")
    from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256  # on a store's first call, not in the web tier
    from requests_oauthlib import OAuth1

    return OAuth1(
        credentials["consumer_key"],
        client_secret=credentials["consumer_secret"],
        resource_owner_key=credentials["access_token"],
        resource_owner_secret=credentials["access_token_secret"],
        signature_method=SIGNATURE_HMAC_SHA256,
    )


def api_root(settings: Mapping[str, Any]) -> str:
    """``<base_url>/rest/V1`` or, with a ``store_code`` setting, ``<base_url>/rest/<code>/V1``."""
    base = str(settings.get("base_url") or "").rstrip("/")
    if not base:
        raise PlatformError("Magento store has no base_url setting")
    code = settings.get("store_code")
    return f"{base}/rest/{segment(code)}/V1" if code else f"{base}/rest/V1"


def read_timeout(value: Any) -> tuple[float, float]:
    """The store's ``timeout`` setting: seconds, or ``[connect, read]``; Adobe's defaults otherwise."""
    if isinstance(value, int | float) and value > 0:
        return (min(float(value), DEFAULT_TIMEOUT[0]), float(value))
    if isinstance(value, list | tuple) and len(value) == 2:
        return (float(value[0]), float(value[1]))
    return DEFAULT_TIMEOUT


def segment(value: object) -> str:
    """One URL path segment (an id or a SKU), percent-encoded."""
    return quote(str(value), safe="")


def surely_not_sent(exc: requests.RequestException) -> bool:
    """Connection refused, DNS failure or connect timeout: the request never reached Magento."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.InvalidURL):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.exceptions.ConnectionError) and isinstance(reason, NewConnectionError)


class MagentoClient:
    """``pin``: the base URL came from an activation (an unauthenticated request), so its host is
    resolved once, checked (public only, unless ``allow_private``) and every request goes to that
    address, following no redirect (``network``)."""

    def __init__(
        self,
        store: StoreContext,
        *,
        timeout: tuple[float, float] | None = None,
        pin: bool = False,
        allow_private: bool = False,
    ) -> None:
        self.root = api_root(store.settings)
        self.timeout = timeout or read_timeout(store.settings.get("timeout"))
        self.session = requests.Session()
        if pin:
            try:
                pinned(self.session, pinned_adapter(self.root, allow_private=allow_private))
            except UnsafeURL as exc:
                raise PlatformError(f"Magento base_url refused: {exc}") from None
        self.session.auth = store_auth(store.credentials)
        self.session.headers["Accept"] = "application/json"

    def __enter__(self) -> MagentoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self._send("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self._send("POST", path, body=body)

    def put(self, path: str, body: Any) -> Any:
        return self._send("PUT", path, body=body)

    def pages(
        self,
        path: str,
        groups: Sequence[Sequence[tuple[str, str, str]]],
        *,
        sort: Sequence[tuple[str, str]] = (),
        page_size: int = 50,
        max_pages: int = 20,
        complete: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """The items of a ``searchCriteria`` list, one list per page, at most ``max_pages``; with
        ``complete``, more than that is ``PlatformUnavailable`` (a lookup that must not miss anything
        never answers from part of the list).

        Magento answers a page past the end with the last page again, so the loop stops on
        ``total_count``, never on an empty page.
        """
        for page in range(1, max_pages + 1):
            answer = self.get(path, bodies.search(groups, sort=sort, page_size=page_size, page=page)) or {}
            yield list(answer.get("items") or [])
            if page * page_size >= int(answer.get("total_count") or 0):
                return
        if complete:
            raise PlatformUnavailable(f"Magento {path}: more than {page_size * max_pages} items; the lookup stops")

    def search(
        self, path: str, groups: Sequence[Sequence[tuple[str, str, str]]], **options: Any
    ) -> Iterator[dict[str, Any]]:
        """Every item of a ``searchCriteria`` list: the ``pages`` one after another."""
        return itertools.chain.from_iterable(self.pages(path, groups, **options))

    def search_all(
        self, path: str, groups: Sequence[Sequence[tuple[str, str, str]]], *, page_size: int = 100, max_pages: int = 50
    ) -> list[dict[str, Any]]:
        """Every item of a list, or ``PlatformUnavailable`` (``pages`` with ``complete``)."""
        found = self.pages(
            path, groups, sort=[("entity_id", "ASC")], page_size=page_size, max_pages=max_pages, complete=True
        )
        return [item for items in found for item in items]

    def _send(self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None) -> Any:
        write = method != "GET"
        try:
            response = self.session.request(
                method, f"{self.root}/{path.lstrip('/')}", params=params, json=body, timeout=self.timeout
            )
        except requests.RequestException as exc:
            if not write or surely_not_sent(exc):
                raise PlatformUnavailable(f"Magento {method} {path}: {type(exc).__name__}") from None
            raise MaybeApplied(f"Magento {method} {path}: {type(exc).__name__} after sending") from None
        return self._answer(response, method, path, write)

    @staticmethod
    def _answer(response: requests.Response, method: str, path: str, write: bool) -> Any:
        status = response.status_code
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = None
            if 200 <= status < 300:
                if write:
                    raise MaybeApplied(f"Magento {method} {path}: unreadable answer to a write") from None
                raise PlatformUnavailable(f"Magento {method} {path}: unreadable answer") from None
        if 200 <= status < 300:
            return payload
        message = error_message(payload) if payload is not None else response.text[:300]
        if status >= 500:
            if write:
                raise MaybeApplied(f"Magento {method} {path}: {status} {message}")
            raise PlatformUnavailable(f"Magento {method} {path}: {status} {message}")
        if status == 429:
            raise PlatformUnavailable(f"Magento {method} {path}: rate limited")
        if status == 404:
            raise NotFound(status, message)
        raise MagentoError(status, message)
