"""One store's WooCommerce REST v3 client: the ``woocommerce`` package plus error mapping.

The package is a thin ``requests`` wrapper (HTTP Basic over https, or query-string auth when
the host strips ``Authorization``; OAuth 1.0a over plain http). Every transport or HTTP failure
leaves here as ``WooError``, saying whether the request surely never reached the store.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from hub.contracts import StoreContext

USER_AGENT = "RefundHub-WooCommerce/0.1"
PAGE_SIZE = 100  # the REST API's maximum per_page


class WooError(Exception):
    """A failed call. ``status`` is the HTTP status (None: no answer); ``sent`` False means the
    request surely never reached WooCommerce (connection refused, DNS, connect timeout)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None, sent: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.sent = sent

    @property
    def transient(self) -> bool:
        """Worth retrying later: no answer, rate limited, or a server-side error."""
        return self.status is None or self.status == 429 or self.status >= 500


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total_pages: int


class WooClient:
    """REST calls for one store, with that store's keys and the connector's timeout."""

    def __init__(self, store: StoreContext, *, timeout: float = 20.0, namespace: str = "wc/v3") -> None:
        """``namespace``: the REST namespace paths are under (``wc-analytics`` for the reports;
        WooCommerce's key authentication covers every ``wc-`` namespace)."""
        from woocommerce import API  # the SDK when a store is called, not where webhooks are verified

        self.store_id = store.id
        settings = store.settings
        self._api = API(
            url=str(settings.get("url") or store.id),
            consumer_key=store.credentials.get("consumer_key", ""),
            consumer_secret=store.credentials.get("consumer_secret", ""),
            version=namespace,
            timeout=timeout,
            verify_ssl=bool(settings.get("verify_ssl", True)),
            query_string_auth=bool(settings.get("query_string_auth", False)),
            user_agent=USER_AGENT,
        )

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._call("GET", path, None, params).json()

    def post(self, path: str, data: Mapping[str, Any]) -> Any:
        return self._call("POST", path, data, None).json()

    def put(self, path: str, data: Mapping[str, Any]) -> Any:
        return self._call("PUT", path, data, None).json()

    def page(self, path: str, params: Mapping[str, Any] | None, page: int) -> Page:
        response = self._call("GET", path, None, {**(params or {}), "per_page": PAGE_SIZE, "page": page})
        return Page(items=list(response.json()), total_pages=int(response.headers.get("X-WP-TotalPages") or 1))

    def total(self, path: str, params: Mapping[str, Any] | None = None) -> int | None:
        """How many items the collection holds under ``params`` (``X-WP-Total`` of a one-item page)."""
        response = self._call("GET", path, None, {**(params or {}), "per_page": 1, "page": 1})
        header = response.headers.get("X-WP-Total")
        return int(header) if header is not None and header.strip().isdigit() else None

    def every(self, path: str, params: Mapping[str, Any] | None = None, max_pages: int = 50) -> Iterator[Any]:
        """Every item of a paginated collection (``X-WP-TotalPages``), page by page."""
        number = 1
        while number <= max_pages:
            page = self.page(path, params, number)
            yield from page.items
            if number >= page.total_pages or not page.items:
                return
            number += 1

    def _call(
        self, method: str, path: str, data: Mapping[str, Any] | None, params: Mapping[str, Any] | None
    ) -> requests.Response:
        # the package writes its query-string auth into the dict it is given: hand it a fresh one
        query = {k: _query_value(v) for k, v in (params or {}).items()}
        try:
            if method == "GET":
                response = self._api.get(path, params=query)
            elif method == "POST":
                response = self._api.post(path, dict(data or {}))
            else:
                response = self._api.put(path, dict(data or {}))
        except requests.RequestException as exc:
            raise WooError(f"{method} {path}: {type(exc).__name__}: {exc}", sent=not _surely_not_sent(exc)) from None
        if response.status_code >= 400:
            code, message = _error_of(response)
            raise WooError(
                f"{method} {path}: HTTP {response.status_code} {code}: {message}",
                status=response.status_code,
                code=code,
            )
        try:
            response.json()
        except ValueError:
            raise WooError(
                f"{method} {path}: answer is not JSON", status=response.status_code, code="not_json"
            ) from None
        return response


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _surely_not_sent(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = exc.args[0].reason if isinstance(exc.args[0], MaxRetryError) else exc.args[0]
        return isinstance(reason, NewConnectionError)
    return False


def _error_of(response: requests.Response) -> tuple[str, str]:
    """WordPress REST errors are ``{"code", "message", "data": {"status"}}``."""
    try:
        body = response.json()
    except ValueError:
        return "http_error", response.text[:200]
    if isinstance(body, dict):
        return str(body.get("code") or "http_error"), str(body.get("message") or "")
    return "http_error", str(body)[:200]
