"""The admin JSON API (token-protected): refunds with their audit trail, review decisions,
dead letters and replay. ``/api/openapi.json`` describes it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from hub.ledger import privacy, views
from hub.ledger.records import AuditEntry, Refund
from hub.ledger.unit import read
from hub.people import roles
from hub.people.accounts import Principal
from hub.web.app import current_hub
from hub.web.auth import fail, principal, requires
from hub.web.bodies import BadRequest, int_arg, json_body
from hub.web.openapi import DOCUMENT

bp = Blueprint("admin", __name__, url_prefix="/api")
PAGE = 100


class ReviewBody(BaseModel):
    """``POST /api/refunds/<id>/approve|deny``: every field checked before anything happens."""

    model_config = ConfigDict(extra="forbid", strict=True)
    amount: int | None = Field(default=None, gt=0)  # minor units; approve only; default: the whole request
    note: str = Field(default="", max_length=2000)
    by: str | None = Field(default=None, min_length=1, max_length=100)  # the operator token only: on whose behalf



@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> tuple[Response, int]:
    return fail(400, exc.code, exc.message)


def _who() -> Principal:
    found = principal(current_hub())
    assert found is not None  # ``requires`` let the request through
    return found


def _visible(refund: Refund) -> bool:
    return _who().stores.allows(refund.connector, refund.store_id)


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
@requires(roles.READ, current_hub)
def list_refunds() -> Response:
    with read(current_hub().engine) as conn:
        rows = views.refund_list(
            conn,
            limit=int_arg(request, "limit", PAGE, low=1, high=views.MAX_PAGE),
            state=request.args.get("state"),
            store_id=request.args.get("store_id"),
            scope=_who().stores,
        )
    return jsonify(refunds=[_refund_json(r) for r in rows])


@bp.get("/refunds/<refund_id>")
@requires(roles.READ, current_hub)
def show_refund(refund_id: str) -> Any:
    with read(current_hub().engine) as conn:
        found = views.refund_with_trail(conn, refund_id, _who().stores)
    if found is None:
        return fail(404, "not_found", f"no refund {refund_id}")
    return jsonify(_refund_json(*found))


@bp.post("/refunds/<refund_id>/<verdict>")
@requires(roles.REVIEW, current_hub)
def review(refund_id: str, verdict: str) -> Any:
    from hub.pipeline.review import review_decision

    if verdict not in ("approve", "deny"):
        return fail(404, "not_found", "use /approve or /deny")
    body = json_body(request, ReviewBody)
    if verdict == "deny" and body.amount is not None:
        return fail(400, "invalid_body", "amount: only an approval takes an amount")
    who = _who()
    if body.by is not None and who.user_id is not None:
        return fail(400, "invalid_body", "by: a person's token acts as that person; only the operator token names one")
    actor = f"admin:{body.by or 'admin'}" if who.user_id is None else who.actor
    with read(current_hub().engine) as conn:
        if views.refund_with_trail(conn, refund_id, who.stores) is None:
            return fail(404, "not_found", f"no refund {refund_id}")
    try:
        outcome = review_decision(
            current_hub(),
            refund_id,
            verdict == "approve",
            actor=actor,
            amount=body.amount,
            note=body.note,
            approver=who.user_id or actor,
        )
    except LookupError:
        return fail(404, "not_found", f"no refund {refund_id}")
    except Exception as exc:  # noqa: BLE001 - not in review, over the balance, raced: the caller's conflict
        return fail(409, "conflict", str(exc))
    return jsonify(id=refund_id, state=outcome.state, awaiting_checker=outcome.awaiting_checker)


@bp.get("/deliveries")
@requires(roles.DELIVERIES, current_hub)
def list_deliveries() -> Response:
    status = request.args.get("status", "dead")
    with read(current_hub().engine) as conn:
        rows = views.delivery_list(conn, status, PAGE, _who().stores)
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
@requires(roles.EXPORTS, current_hub)
def list_data_exports() -> Response:
    """What the hub holds on customers who asked (a platform's data request), for the merchant."""
    with read(current_hub().engine) as conn:
        limit = int_arg(request, "limit", PAGE, low=1, high=500)
        found = privacy.exports(conn, request.args.get("store_id"), limit, _who().stores)
    return jsonify(data_exports=found)


@bp.post("/deliveries/<delivery_id>/replay")
@requires(roles.REPLAY, current_hub)
def replay_delivery(delivery_id: str) -> Any:
    from hub.pipeline.deliveries import replay

    who = _who()
    with read(current_hub().engine) as conn:
        if not views.delivery_visible(conn, delivery_id, who.stores):
            return fail(404, "not_found", f"no delivery {delivery_id}")
    if not replay(current_hub(), delivery_id, who="admin" if who.user_id is None else who.actor):
        return fail(409, "not_replayable", f"delivery {delivery_id} is already queued")
    return jsonify(id=delivery_id, status="received")
