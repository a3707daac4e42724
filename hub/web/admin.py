"""The admin JSON API (token-protected): refunds with their audit trail, review decisions,
dead letters and replay. ``/api/openapi.json`` describes it."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from functools import wraps
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from hub.ledger import privacy, views
from hub.ledger.records import AuditEntry, Refund
from hub.ledger.unit import read
from hub.web.app import current_hub
from hub.web.bodies import BadRequest, int_arg, json_body
from hub.web.openapi import DOCUMENT

bp = Blueprint("admin", __name__, url_prefix="/api")
PAGE = 100
BEARER = "Bearer "


class ReviewBody(BaseModel):
    """``POST /api/refunds/<id>/approve|deny``: every field checked before anything happens."""

    model_config = ConfigDict(extra="forbid", strict=True)
    amount: int | None = Field(default=None, gt=0)  # minor units; approve only; default: the whole request
    note: str = Field(default="", max_length=2000)
    by: str = Field(default="admin", min_length=1, max_length=100)


def _fail(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error=code, message=message), status


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> tuple[Response, int]:
    return _fail(400, exc.code, exc.message)


def bearer_matches(header: str, expected: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time; no scheme, no entry."""
    if not header.startswith(BEARER):
        return False
    return hmac.compare_digest(header[len(BEARER) :].strip().encode(), expected.encode())


def token_required(view):  # type: ignore[no-untyped-def]
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        expected = current_hub().config.hub.admin_token
        if not expected:
            return _fail(403, "admin_disabled", "set REFUND_HUB_ADMIN_TOKEN to enable the admin API")
        if not bearer_matches(request.headers.get("Authorization", ""), expected):
            return _fail(401, "unauthorized", "missing or wrong bearer token (Authorization: Bearer <token>)")
        return view(*args, **kwargs)

    return wrapper


def _refund_json(row: Refund, trail: Sequence[AuditEntry] | None = None) -> dict[str, Any]:
    data = {
        "id": row.id,
        "state": row.state,
        "kind": row.kind,
        "connector": row.connector,
        "store_id": row.store_id,
        "order_id": row.order_id,
        "source_ref": row.source_ref,
        "amount": row.amount,
        "approved_amount": row.approved_amount,
        "currency": row.currency,
        "route": row.route,
        "gateway_refund_id": row.gateway_refund_id,
        "writeback_ref": row.writeback_ref,
        "money_moved": row.money_moved,
        "policy_version": row.policy_version,
        "decision": row.decision,
        "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
    if trail is not None:
        data["audit"] = [
            {"at": a.at.isoformat(), "actor": a.actor, "action": a.action, "detail": a.detail} for a in trail
        ]
    return data


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(DOCUMENT)


@bp.get("/refunds")
@token_required
def list_refunds() -> Response:
    with read(current_hub().engine) as conn:
        rows = views.refund_list(
            conn,
            limit=int_arg(request, "limit", PAGE, low=1, high=views.MAX_PAGE),
            state=request.args.get("state"),
            store_id=request.args.get("store_id"),
        )
    return jsonify(refunds=[_refund_json(r) for r in rows])


@bp.get("/refunds/<refund_id>")
@token_required
def show_refund(refund_id: str) -> Any:
    with read(current_hub().engine) as conn:
        found = views.refund_with_trail(conn, refund_id)
    if found is None:
        return _fail(404, "not_found", f"no refund {refund_id}")
    return jsonify(_refund_json(*found))


@bp.post("/refunds/<refund_id>/<verdict>")
@token_required
def review(refund_id: str, verdict: str) -> Any:
    from hub.pipeline.review import review_decision

    if verdict not in ("approve", "deny"):
        return _fail(404, "not_found", "use /approve or /deny")
    body = json_body(request, ReviewBody)
    if verdict == "deny" and body.amount is not None:
        return _fail(400, "invalid_body", "amount: only an approval takes an amount")
    try:
        state = review_decision(
            current_hub(), refund_id, verdict == "approve", who=body.by, amount=body.amount, note=body.note
        )
    except LookupError:
        return _fail(404, "not_found", f"no refund {refund_id}")
    except Exception as exc:  # noqa: BLE001 - not in review, over the balance, raced: the caller's conflict
        return _fail(409, "conflict", str(exc))
    return jsonify(id=refund_id, state=state)


@bp.get("/deliveries")
@token_required
def list_deliveries() -> Response:
    status = request.args.get("status", "dead")
    with read(current_hub().engine) as conn:
        rows = views.delivery_list(conn, status, PAGE)
    return jsonify(
        deliveries=[
            {
                "id": r.id,
                "connector": r.connector,
                "store_id": r.store_id,
                "topic": r.topic,
                "status": r.status,
                "error": r.error,
                "received_at": r.received_at.isoformat(),
            }
            for r in rows
        ]
    )


@bp.get("/data-exports")
@token_required
def list_data_exports() -> Response:
    """What the hub holds on customers who asked (a platform's data request), for the merchant."""
    with read(current_hub().engine) as conn:
        found = privacy.exports(conn, request.args.get("store_id"), int_arg(request, "limit", PAGE, low=1, high=500))
    return jsonify(data_exports=found)


@bp.post("/deliveries/<delivery_id>/replay")
@token_required
def replay_delivery(delivery_id: str) -> Any:
    from hub.pipeline.deliveries import replay

    if not replay(current_hub(), delivery_id, who="admin"):
        return _fail(409, "not_replayable", f"delivery {delivery_id} is unknown or already queued")
    return jsonify(id=delivery_id, status="received")
