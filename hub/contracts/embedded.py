"""A platform admin that frames the console (Shopify's embedded apps): what a connector proves
about such a request, in plain values (no web framework here).

The hub asks each connector whether a console request comes from its admin; the connector
verifies the platform's own proof (Shopify: the session token, an HS256 JWT signed with the app
secret) and answers with the store and staff user it proves, or with the answer the request must
get instead (a bounce page that fetches a fresh token, a 401 the admin retries)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FramedRequest:
    method: str
    url: str  # the full URL as the client asked it
    headers: Mapping[str, str]
    form_token: str | None = None  # a token a form carried (a browser cannot add headers to a navigation)


@dataclass(frozen=True)
class Answer:
    """What to answer instead of the page."""

    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FramedSession:
    """A request the platform vouched for: its store and staff user, what every link must keep
    (``keep``: query values that mark the next request as framed too), the response headers the
    platform requires (``Content-Security-Policy: frame-ancestors …``), and what the page's
    ``<head>`` must load (the platform's own script)."""

    store_id: str
    user: str
    keep: Mapping[str, str]
    headers: Mapping[str, str]
    head: str  # HTML for the page's <head>, written by the connector
