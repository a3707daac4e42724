"""Who is asking, for every request to the JSON API and the console.

``Authorization: Bearer <token>`` is a person's API token (``rh_…``, with scopes) or the
operator's bootstrap token (``hub.admin_token``: every scope, every store — for first setup and
scripts); without one, the console's signed session cookie. The principal is in ``g.principal``;
``requires(scope)`` answers 401 for nobody and 403 for a principal without the scope.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, g, jsonify, request, session

from hub.people.accounts import OPERATOR, Principal
from hub.runtime.bootstrap import Hub

BEARER = "Bearer "
F = TypeVar("F", bound=Callable[..., Any])


def bearer_matches(header: str, expected: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time; no scheme, no entry."""
    if not header.startswith(BEARER):
        return False
    return hmac.compare_digest(header[len(BEARER) :].strip().encode(), expected.encode())


def session_key(hub: Hub) -> tuple[str, list[str]]:
    """The session cookie's signing key and its fallbacks, derived from the hub's secret keys
    (rotating those rotates these; old sessions stay valid until the old key is dropped)."""
    keys = [hashlib.sha256(b"refund-hub console session|" + k.encode()).hexdigest() for k in hub.box.keys]
    return keys[0], keys[1:]


def configure_sessions(app: Flask, hub: Hub) -> None:
    key, fallbacks = session_key(hub)
    app.config.update(
        SECRET_KEY=key,
        SECRET_KEY_FALLBACKS=fallbacks,
        SESSION_COOKIE_NAME="refund_hub_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=hub.config.hub.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=12 * 3600,
    )


def principal(hub: Hub) -> Principal | None:
    """The request's principal (cached in ``g``), or None."""
    if "principal" in g:
        return cast(Principal | None, g.principal)
    found: Principal | None = None
    header = request.headers.get("Authorization", "")
    if header:
        found = _from_bearer(hub, header)
    elif "uid" in session:
        found = hub.accounts.principal_of_user(str(session["uid"]), int(session.get("epoch", -1)))
    g.principal = found
    return found


def _from_bearer(hub: Hub, header: str) -> Principal | None:
    operator_token = hub.config.hub.admin_token
    if operator_token and bearer_matches(header, operator_token):
        return OPERATOR
    if not header.startswith(BEARER):
        return None
    return hub.accounts.principal_of_token(header[len(BEARER) :].strip())


def fail(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error=code, message=message), status


def requires(scope: str, hub_of: Callable[[], Hub]) -> Callable[[F], F]:
    """The view runs for a principal holding ``scope``; 401 without credentials, 403 without it."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = principal(hub_of())
            if who is None:
                return fail(401, "unauthorized", "missing or wrong credentials (Authorization: Bearer <token>)")
            if not who.may(scope):
                return fail(403, "forbidden", f"this needs the {scope} permission")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
