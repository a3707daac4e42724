"""The admin JSON API (token-protected): refunds with their audit trail, review decisions,
dead letters and replay. ``/api/openapi.json`` describes it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from hub.ledger import deliveries, disputes, privacy, views
from hub.ledger.records import Refund
from hub.ledger.unit import read
from hub.people import roles
from hub.people.accounts import Principal
from hub.web.app import current_hub
from hub.web.auth import fail, principal, requires
from hub.web.bodies import BadRequest, int_arg, json_body
from hub.web.openapi import DOCUMENT
from hub.web.paging import amount_arg, cursor_arg, cursor_of, state_arg, text_arg, time_arg
from hub.web.refund_json import DeliveryList, RefundPage, ReplayAnswer, ReviewAnswer, refund_out

bp = Blueprint("admin", __name__, url_prefix="/api")
PAGE = 100
DELIVERY_STATUSES = (deliveries.DEAD, deliveries.RECEIVED, deliveries.DONE, deliveries.IGNORED, deliveries.ACK)


class ReviewBody(BaseModel):
    """``POST /api/refunds/<id>/approve|deny``: every field checked before anything happens."""

    model_config = ConfigDict(extra="forbid", strict=True)
    amount: int | None = Field(default=None, gt=0)  # minor units; approve only; default: the whole request
    note: str = Field(default="", max_length=2000)
    by: str | None = Field(default=None, min_length=1, max_length=100)  # the operator token only: on whose behalf


class AlternativeBody(BaseModel):
    """``POST /api/refunds/<id>/alternative``: take the alternative on offer for the customer."""

    model_config = ConfigDict(extra="forbid", strict=True)
    kind: str | None = Field(default=None, min_length=1, max_length=32)  # if given, what the caller expects offered
    by: str | None = Field(default=None, min_length=1, max_length=100)  # the operator token only: on whose behalf


class CreditOut(BaseModel):
    id: str
    kind: str
    amount: int  # minor units, the store's bonus included
    bonus: int
    currency: str
    state: str  # issuing | issued | unknown | failed


class AlternativeAnswer(BaseModel):
    id: str
    credit: CreditOut


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> tuple[Response, int]:
    return fail(400, exc.code, exc.message)


def _who() -> Principal:
    found = principal(current_hub())
    assert found is not None  # ``requires`` let the request through
    return found


def _visible(refund: Refund) -> bool:
    return _who().stores.allows(refund.connector, refund.store_id)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(DOCUMENT)


@bp.get("/refunds")
@requires(roles.READ, current_hub)
def list_refunds() -> Response:
    """Newest first, filtered, a page at a time (``next_cursor``); only the caller's stores."""
    limit = int_arg(request, "limit", PAGE, low=1, high=views.MAX_PAGE)
    with read(current_hub().engine) as conn:
        rows = views.refund_search(
            conn,
            _who().stores,
            limit=limit + 1,
            cursor=cursor_arg(request),
            store_id=text_arg(request, "store_id"),
            state=state_arg(request),
            connector=text_arg(request, "connector", longest=64),
            route=text_arg(request, "route", longest=128),
            reason=text_arg(request, "reason", longest=32),
            currency=text_arg(request, "currency", longest=3),
            created_from=time_arg(request, "created_from"),
            created_before=time_arg(request, "created_before"),
            amount_min=amount_arg(request, "amount_min"),
            amount_max=amount_arg(request, "amount_max"),
        )
        more = len(rows) > limit
        rows = rows[:limit]
        held = disputes.disputed_refunds(conn, [r.id for r in rows])
    after = cursor_of(rows[-1].created_at, rows[-1].id) if more else None
    return _answer(RefundPage(refunds=[refund_out(r, disputed=r.id in held) for r in rows], next_cursor=after))


@bp.get("/refunds/<refund_id>")
@requires(roles.READ, current_hub)
def show_refund(refund_id: str) -> Any:
    with read(current_hub().engine) as conn:
        found = views.refund_with_trail(conn, refund_id, _who().stores)
        held = disputes.disputed_refunds(conn, [refund_id]) if found is not None else set()
        parts = views.parts_of(conn, refund_id) if found is not None else []
    if found is None:
        return fail(404, "not_found", f"no refund {refund_id}")
    return _answer(refund_out(*found, disputed=refund_id in held, parts=parts))


def _answer(model: BaseModel) -> Response:
    return current_app.response_class(model.model_dump_json(), mimetype="application/json")


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
    actor = _acting_as(who, body.by)
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
    return _answer(ReviewAnswer(id=refund_id, state=outcome.state, awaiting_checker=outcome.awaiting_checker))


def _acting_as(who: Principal, by: str | None) -> str:
    """Whom the audit names: a person's token is that person; the operator token may say on whose behalf."""
    if by is not None and who.user_id is not None:
        raise BadRequest("invalid_body", "by: a person's token acts as that person; only the operator token names one")
    return f"admin:{by or 'admin'}" if who.user_id is None else who.actor


@bp.post("/refunds/<refund_id>/alternative")
@requires(roles.REVIEW, current_hub)
def take_alternative(refund_id: str) -> Any:
    """The alternative on offer taken for the customer, issued on the platform once (a repeat
    answers the same credit); the same call as the customer's accept button and the CLI."""
    from hub.pipeline.alternatives import KINDS, CannotAccept, accept

    body = json_body(request, AlternativeBody)
    who = _who()
    actor = _acting_as(who, body.by)
    with read(current_hub().engine) as conn:
        found = views.refund_with_trail(conn, refund_id, who.stores)
    if found is None:
        return fail(404, "not_found", f"no refund {refund_id}")
    if body.kind is not None and body.kind not in KINDS.values():
        return fail(400, "invalid_body", f"kind: one of {', '.join(sorted(set(KINDS.values())))}")
    offered = KINDS.get(str(((found[0].decision or {}).get("decision") or {}).get("alternative") or ""))
    if body.kind is not None and offered is not None and body.kind != offered:
        return fail(409, "other_alternative", f"kind: the alternative on offer is {offered}, not {body.kind}")
    try:
        credit = accept(current_hub(), refund_id, actor)
    except LookupError:
        return fail(404, "not_found", f"no refund {refund_id}")
    except CannotAccept as exc:
        return fail(409, "no_alternative", str(exc))
    if body.kind is not None and credit.kind != body.kind:  # taken before, as something else
        return fail(409, "other_alternative", f"kind: the alternative taken is {credit.kind}, not {body.kind}")
    return _answer(AlternativeAnswer(id=refund_id, credit=CreditOut.model_validate(credit, from_attributes=True)))


@bp.get("/deliveries")
@requires(roles.DELIVERIES, current_hub)
def list_deliveries() -> Response:
    status = request.args.get("status", "dead")
    if status not in DELIVERY_STATUSES:
        raise BadRequest("invalid_status", f"status must be one of {', '.join(DELIVERY_STATUSES)}")
    with read(current_hub().engine) as conn:
        rows = views.delivery_list(conn, status, PAGE, _who().stores)
    return _answer(DeliveryList(deliveries=rows))


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
    return _answer(ReplayAnswer(id=delivery_id, status="received"))
