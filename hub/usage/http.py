"""The built-in usage provider ``http``: a merchant's licence server answers how often a line's
licence was activated.

Store settings: ``usage_url``, a URL template with ``{store_id}``, ``{order_id}``, ``{line_id}``,
``{product_id}`` and ``{sku}`` (each percent-encoded), https unless the host is loopback;
``usage_timeout`` seconds (default 3, for connecting and again for reading). Store credential
``usage_token``: sent as ``Authorization: Bearer <token>``. The server answers ``200`` with a JSON
object whose ``activations`` is a whole number ≥ 0; anything else — another status, a timeout, a
refused connection, a body of another shape — is "unknown" (None), logged, never raised.
"""

from __future__ import annotations

import ipaddress
import logging
from string import Formatter
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import requests

from hub.contracts.stores import StoreContext
from hub.contracts.usage import UsageProvider
from hub.models import Line

log = logging.getLogger(__name__)
FIELDS = frozenset({"store_id", "order_id", "line_id", "product_id", "sku"})
DEFAULT_TIMEOUT = 3.0
USER_AGENT = "RefundHub-Usage/0.1"


class HttpActivations(UsageProvider):
    name: ClassVar[str] = "http"

    def __init__(self) -> None:
        self.session = requests.Session()  # one connection pool for the process's look-ups

    def activations(self, store: StoreContext, order_id: str, line: Line) -> int | None:
        url = licence_url(store, order_id, line)
        if url is None:
            return None
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        token = store.credentials.get("usage_token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        timeout = _timeout(store.settings.get("usage_timeout"))
        try:
            answer = self.session.get(url, headers=headers, timeout=(timeout, timeout), allow_redirects=False)
        except requests.RequestException as exc:
            log.warning("store %s: licence server did not answer for line %s: %s", store.id, line.line_id, exc)
            return None
        if answer.status_code != 200:
            log.warning("store %s: licence server answered %s for line %s", store.id, answer.status_code, line.line_id)
            return None
        return _count(answer)


def licence_url(store: StoreContext, order_id: str, line: Line) -> str | None:
    """The store's ``usage_url`` filled in for this line; None (and a log line) when it is missing,
    names a field there is none of, or would send the token over plain http to another host."""
    template = str(store.settings.get("usage_url") or "")
    if not template:
        log.warning("store %s names usage provider http but has no usage_url", store.id)
        return None
    values = {
        "store_id": store.id,
        "order_id": order_id,
        "line_id": line.line_id,
        "product_id": line.product_id or "",
        "sku": line.sku or "",
    }
    try:
        wanted = {field for _, field, _, _ in Formatter().parse(template) if field is not None}
        if not wanted <= FIELDS:
            raise ValueError(f"unknown fields {sorted(wanted - FIELDS)}")
        url = template.format(**{key: quote(value, safe="") for key, value in values.items()})
    except (ValueError, IndexError, KeyError) as exc:
        log.warning("store %s: usage_url %r cannot be filled in: %s", store.id, template, exc)
        return None
    if not _safe(url):
        log.warning("store %s: usage_url must be https (plain http only to this machine): %s", store.id, template)
        return None
    return url


def _safe(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _timeout(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT
    return min(max(seconds, 0.1), 30.0)


def _count(answer: requests.Response) -> int | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    value = body.get("activations") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value
