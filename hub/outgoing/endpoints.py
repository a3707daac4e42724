"""Managing endpoints: checked before they are stored, a secret per endpoint sealed with the hub's
keys and shown once, and rotation — the new secret signs at once and the previous one beside it
until the overlap ends, so a receiver can switch without missing a delivery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from hub.ledger import subscriptions
from hub.ledger.subscriptions import ALL, Endpoint
from hub.ledger.unit import read, write
from hub.ledger.webhook_events import EVENT_TYPES
from hub.outgoing.destinations import Refused, check_literal
from hub.outgoing.signing import new_secret, secret_bytes
from hub.runtime.bootstrap import Hub

ROTATION_OVERLAP = timedelta(hours=24)


class BadEndpoint(ValueError):
    """An endpoint that cannot be stored as asked; the message names the field."""


@dataclass(frozen=True)
class Created:
    endpoint: Endpoint
    secret: str  # shown once; the hub keeps it sealed


def check_url(url: str, allow_private: bool = False) -> str:
    """An absolute http(s) URL without credentials, to a destination the hub may send to
    (``hub.outgoing.destinations``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadEndpoint("url: an absolute http(s) URL is required")
    if parts.username or parts.password:
        raise BadEndpoint("url: credentials in the URL are not allowed (the signature authenticates the hub)")
    try:
        check_literal(url, allow_private)
    except Refused as exc:
        raise BadEndpoint(str(exc)) from exc
    return url


def check_events(events: Sequence[str]) -> list[str]:
    if isinstance(events, str) or not events:
        raise BadEndpoint(f'events: a non-empty list of event types, or ["*"]; known: {", ".join(EVENT_TYPES)}')
    unknown = [e for e in events if e != ALL and e not in EVENT_TYPES]
    if unknown:
        raise BadEndpoint(f"events: unknown {unknown}; known: {', '.join(EVENT_TYPES)}")
    return list(dict.fromkeys(events))


def check_limit(limit: object) -> int | None:
    if limit is None:
        return None
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
        raise BadEndpoint("failure_limit: a whole number from 1 to 1000")
    return limit


def create(
    hub: Hub,
    store_id: str,
    url: str,
    events: Sequence[str],
    *,
    description: str = "",
    failure_limit: int | None = None,
    secret: str | None = None,
) -> Created:
    secret = secret or new_secret()
    secret_bytes(secret)  # refuses one that cannot sign
    sealed = hub.box.seal({"current": secret})
    with write(hub.engine) as conn:
        endpoint_id = subscriptions.create_endpoint(
            conn,
            store_id,
            check_url(url, hub.config.webhooks.allow_private_networks),
            check_events(events),
            sealed,
            description=description[:255],
            failure_limit=check_limit(failure_limit),
        )
        created = subscriptions.endpoint(conn, endpoint_id)
    assert created is not None
    return Created(created, secret)


def rotate(
    hub: Hub, endpoint_id: str, overlap: timedelta = ROTATION_OVERLAP, now: datetime | None = None
) -> str | None:
    """A new secret for the endpoint (returned once); the current one keeps signing for ``overlap``."""
    now = now or datetime.now(UTC)
    with write(hub.engine) as conn:
        found = subscriptions.endpoint(conn, endpoint_id)
        if found is None:
            return None
        secret = new_secret()
        sealed = hub.box.seal({"current": secret, "previous": hub.box.open(found.secrets)["current"]})
        subscriptions.change_endpoint(conn, endpoint_id, secrets=sealed, previous_until=now + overlap)
    return secret


def signing_secrets(hub: Hub, endpoint: Endpoint, now: datetime) -> list[str]:
    """Newest first: the current secret, and the previous one while its overlap lasts."""
    secrets = hub.box.open(endpoint.secrets)
    found = [secrets["current"]]
    if secrets.get("previous") and endpoint.previous_until is not None and now < endpoint.previous_until:
        found.append(secrets["previous"])
    return found


def get(hub: Hub, endpoint_id: str) -> Endpoint | None:
    with read(hub.engine) as conn:
        return subscriptions.endpoint(conn, endpoint_id)
