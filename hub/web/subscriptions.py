"""The outgoing webhooks JSON API: subscribe endpoints, see their deliveries with every attempt,
replay, rotate secrets, enable and disable (docs/webhooks.md).

Reading needs ``deliveries:read``; replaying ``deliveries:replay``; creating, changing, rotating
and switching endpoints ``users:manage`` (the owner's: an endpoint receives every refund of a
store). A person sees and manages the endpoints of their stores only; an all-stores endpoint
(``store_id: "*"``) needs a principal with every store.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from hub.ledger import subscriptions
from hub.ledger import webhook_deliveries as owed_to
from hub.ledger.subscriptions import ALL, Endpoint
from hub.ledger.unit import read, write
from hub.ledger.webhook_events import EVENT_TYPES
from hub.outgoing import endpoints
from hub.outgoing.endpoints import BadEndpoint
from hub.people import roles
from hub.web.app import current_hub
from hub.web.auth import fail, principal, requires
from hub.web.bodies import BadRequest, int_arg, json_body
from hub.web.paging import time_arg

bp = Blueprint("webhook_subscriptions", __name__, url_prefix="/api/webhooks")
MANAGE = roles.USERS  # the owner's permission: integration settings, like people


class EndpointBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    store_id: str = Field(min_length=1, max_length=255)
    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=len(EVENT_TYPES) + 1)
    description: str = Field(default="", max_length=255)
    failure_limit: int | None = Field(default=None, ge=1, le=1000)


class ChangeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    events: list[str] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES) + 1)
    description: str | None = Field(default=None, max_length=255)
    failure_limit: int | None = Field(default=None, ge=1, le=1000)


class RotateBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    overlap_hours: float = Field(default=24.0, ge=0, le=24 * 7)  # the old secret signs beside the new one


class DisableBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    reason: str = Field(default="disabled by a person", min_length=1, max_length=500)


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> tuple[Response, int]:
    return fail(400, exc.code, exc.message)


@bp.errorhandler(BadEndpoint)
def _bad_endpoint(exc: BadEndpoint) -> tuple[Response, int]:
    return fail(400, "invalid_endpoint", str(exc))


def _may(store_id: str) -> bool:
    """The caller's scope covers ``store_id`` under any connector that has it (``*``: every store)."""
    hub, who = current_hub(), principal(current_hub())
    if who is None:
        return False
    if who.stores.everything:
        return True
    if store_id == ALL:
        return False
    return any(who.stores.allows(name, store_id) and d.get(store_id) is not None for name, d in hub.stores.items())


def _found(endpoint_id: str) -> Endpoint | None:
    found = endpoints.get(current_hub(), endpoint_id)
    return found if found is not None and _may(found.store_id) else None


def _missing(endpoint_id: str) -> tuple[Response, int]:
    return fail(404, "not_found", f"no webhook endpoint {endpoint_id} in your stores")


@bp.get("/event-types")
@requires(roles.DELIVERIES, current_hub)
def event_types() -> Response:
    return jsonify(event_types=list(EVENT_TYPES))


@bp.get("/endpoints")
@requires(roles.DELIVERIES, current_hub)
def list_endpoints() -> Response:
    with read(current_hub().engine) as conn:
        found = [e for e in subscriptions.endpoints(conn) if _may(e.store_id)]
    return jsonify(endpoints=[e.public() for e in found])


@bp.post("/endpoints")
@requires(MANAGE, current_hub)
def create_endpoint() -> Any:
    body = json_body(request, EndpointBody)
    if not _may(body.store_id):
        return fail(403, "forbidden", f"store {body.store_id!r} is not one of yours")
    created = endpoints.create(
        current_hub(),
        body.store_id,
        body.url,
        body.events,
        description=body.description,
        failure_limit=body.failure_limit,
    )
    return jsonify(endpoint=created.endpoint.public(), secret=created.secret), 201


@bp.get("/endpoints/<endpoint_id>")
@requires(roles.DELIVERIES, current_hub)
def show_endpoint(endpoint_id: str) -> Any:
    found = _found(endpoint_id)
    if found is None:
        return _missing(endpoint_id)
    with read(current_hub().engine) as conn:
        owed = owed_to.owed(conn, endpoint_id)
    return jsonify(endpoint=found.public(), owed=owed)


@bp.patch("/endpoints/<endpoint_id>")
@requires(MANAGE, current_hub)
def change_endpoint(endpoint_id: str) -> Any:
    body = json_body(request, ChangeBody)
    if _found(endpoint_id) is None:
        return _missing(endpoint_id)
    values: dict[str, Any] = {}
    if body.url is not None:
        values["url"] = endpoints.check_url(body.url, current_hub().config.webhooks.allow_private_networks)
    if body.events is not None:
        values["events"] = endpoints.check_events(body.events)
    if body.description is not None:
        values["description"] = body.description
    if "failure_limit" in body.model_fields_set:
        values["failure_limit"] = body.failure_limit
    with write(current_hub().engine) as conn:
        if values:
            subscriptions.change_endpoint(conn, endpoint_id, **values)
        changed = subscriptions.endpoint(conn, endpoint_id)
    assert changed is not None
    return jsonify(endpoint=changed.public())


@bp.post("/endpoints/<endpoint_id>/rotate")
@requires(MANAGE, current_hub)
def rotate_secret(endpoint_id: str) -> Any:
    body = json_body(request, RotateBody)
    if _found(endpoint_id) is None:
        return _missing(endpoint_id)
    secret = endpoints.rotate(current_hub(), endpoint_id, overlap=timedelta(hours=body.overlap_hours))
    changed = endpoints.get(current_hub(), endpoint_id)
    assert secret is not None
    assert changed is not None
    return jsonify(endpoint=changed.public(), secret=secret)


@bp.post("/endpoints/<endpoint_id>/enable")
@requires(MANAGE, current_hub)
def enable_endpoint(endpoint_id: str) -> Any:
    if _found(endpoint_id) is None:
        return _missing(endpoint_id)
    with write(current_hub().engine) as conn:
        subscriptions.enable(conn, endpoint_id)  # and a job that sends what it is owed
    current_hub().dispatcher.wake()
    return _show(endpoint_id)


@bp.post("/endpoints/<endpoint_id>/disable")
@requires(MANAGE, current_hub)
def disable_endpoint(endpoint_id: str) -> Any:
    body = json_body(request, DisableBody)
    if _found(endpoint_id) is None:
        return _missing(endpoint_id)
    with write(current_hub().engine) as conn:
        subscriptions.disable(conn, endpoint_id, body.reason)
    return _show(endpoint_id)


def _show(endpoint_id: str) -> Response:
    found = endpoints.get(current_hub(), endpoint_id)
    assert found is not None
    return jsonify(endpoint=found.public())


@bp.get("/endpoints/<endpoint_id>/deliveries")
@requires(roles.DELIVERIES, current_hub)
def list_deliveries(endpoint_id: str) -> Any:
    if _found(endpoint_id) is None:
        return _missing(endpoint_id)
    state = request.args.get("state")
    if state not in (None, owed_to.PENDING, owed_to.SUCCEEDED):
        return fail(400, "invalid_state", "state: pending or succeeded")
    limit = int_arg(request, "limit", 100, low=1, high=500)
    with read(current_hub().engine) as conn:
        found = owed_to.deliveries(conn, endpoint_id, limit=limit, state=state)
    return jsonify(deliveries=found)


@bp.post("/endpoints/<endpoint_id>/deliveries/<int:delivery_id>/replay")
@requires(roles.REPLAY, current_hub)
def replay_delivery(endpoint_id: str, delivery_id: int) -> Any:
    if _found(endpoint_id) is None:
        return _missing(endpoint_id)
    with write(current_hub().engine) as conn:
        moved = owed_to.replay(conn, endpoint_id, delivery_id=delivery_id)
    if not moved:
        return fail(404, "not_found", f"no delivery {delivery_id} to endpoint {endpoint_id}")
    current_hub().dispatcher.wake()
    return jsonify(replayed=moved)


@bp.post("/endpoints/<endpoint_id>/replay")
@requires(roles.REPLAY, current_hub)
def replay_since(endpoint_id: str) -> Any:
    """Every delivery to the endpoint created since ``?since=`` (ISO time), again."""
    since = time_arg(request, "since")
    if since is None:
        return fail(400, "missing_since", "since: an ISO time, e.g. 2026-12-01T00:00:00Z")
    if _found(endpoint_id) is None:
        return _missing(endpoint_id)
    with write(current_hub().engine) as conn:
        moved = owed_to.replay(conn, endpoint_id, since=since)
    current_hub().dispatcher.wake()
    return jsonify(replayed=moved)
