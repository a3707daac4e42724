"""The console framed by a platform's admin (Shopify's embedded apps), for whichever connector
proves the request (``Connector.framed``).

Before a console request runs, each connector is asked whether the request is one of its admin's
and what it proves. A proven request acts as the platform's staff user on that one store
(``g.principal``; role from the store's ``embedded_role`` setting, ``approver`` by default), its
links keep the marks that make the next request framed too (``url_defaults``), its page loads
what the platform requires in ``<head>`` (``framed_head`` in templates) and its response carries
the platform's headers (``frame-ancestors``). A framed form is authenticated by the token it
carries, not by a cookie (third-party cookies do not reach an iframe), so it needs no CSRF
token: the console skips that check for framed requests only (``is_framed``). Every page that
is not framed may not be framed by anyone (``frame-ancestors 'none'``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request
from markupsafe import Markup

from hub.contracts import Answer, FramedRequest, FramedSession
from hub.ledger.people import StoreScope
from hub.people import roles
from hub.people.accounts import Principal
from hub.runtime.bootstrap import Hub

NOT_FRAMED = ("/api/", "/webhooks/", "/install/", "/metrics", "/healthz", "/static/", "/shopify/")
DEFAULT_ROLE = "approver"


def register(app: Flask, hub: Hub) -> None:
    app.before_request(lambda: _authenticate(hub))
    app.url_defaults(_keep)
    app.after_request(_headers)
    app.context_processor(lambda: {"framed_head": _head()})


def _authenticate(hub: Hub) -> Response | None:
    if request.path.startswith(NOT_FRAMED) or not hub.connectors:
        return None
    asked = FramedRequest(
        method=request.method,
        url=request.url,
        headers=dict(request.headers),
        form_token=request.form.get("id_token") if request.method == "POST" else None,
    )
    for name, connector in hub.connectors.items():
        found = connector.framed(asked)
        if isinstance(found, Answer):
            return Response(found.body, status=found.status, headers=dict(found.headers))
        if isinstance(found, FramedSession):
            g.framed = found
            g.principal = _principal(hub, name, found)
            return None
    return None


def _keep(endpoint: str, values: dict[str, Any]) -> None:
    session = g.get("framed")
    if session is not None and endpoint.startswith("console.") and endpoint != "console.static":
        for key, value in session.keep.items():
            values.setdefault(key, value)


def _headers(response: Response) -> Response:
    session = g.get("framed")
    if session is not None:
        response.headers.update(dict(session.headers))
    elif response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    return response


def _head() -> Markup | str:
    session = g.get("framed")
    return Markup(session.head) if session is not None else ""  # the connector's own HTML


def is_framed() -> bool:
    return g.get("framed") is not None


def _principal(hub: Hub, connector: str, session: FramedSession) -> Principal:
    directory = hub.stores.get(connector)
    store = directory.get(session.store_id) if directory is not None else None
    role = str((store.settings if store is not None else {}).get("embedded_role") or DEFAULT_ROLE)
    if role not in roles.PERMISSIONS:
        role = DEFAULT_ROLE
    return Principal(
        actor=f"{connector}:{session.user}@{session.store_id}",
        user_id=None,
        role=role,
        scopes=roles.permissions(role),
        stores=StoreScope(stores=frozenset({(connector, session.store_id)})),
        name=f"{connector.capitalize()} staff {session.user}",
    )
