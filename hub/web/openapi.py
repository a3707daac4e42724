"""The OpenAPI 3.1 document of the admin API and the webhook endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hub.web.refund_json import DeliveryList, RefundOut, RefundPage, ReplayAnswer, ReviewAnswer

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    "description": "Every error of every endpoint: a code to branch on and a sentence for a person.",
}
_WHY = {
    400: "the request cannot be used (a bad body, query value or cursor); the message names it",
    401: "no token, a wrong token, or a bad webhook signature",
    403: "the token lacks the scope this endpoint needs",
    404: "no such resource, or not one of the caller's stores",
    409: "the resource is not in a state that allows it (already decided, raced, over the balance)",
    413: "the body is larger than hub.max_body_bytes",
    503: "storage or the platform is briefly unavailable: retry",
}
_MODELS: tuple[type[BaseModel], ...] = (RefundOut, RefundPage, ReviewAnswer, DeliveryList, ReplayAnswer)
_, _DEFINITIONS = models_json_schema(
    [(model, "serialization") for model in _MODELS], ref_template="#/components/schemas/{model}"
)


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _op(
    summary: str,
    ok: str,
    *,
    answers: type[BaseModel] | dict[str, Any] | None = None,
    errors: tuple[int, ...] = (400, 401, 403),
    secured: bool = True,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    success: dict[str, Any] = {"description": ok}
    if answers is not None:
        schema = answers if isinstance(answers, dict) else _ref(answers)
        success["content"] = {"application/json": {"schema": schema}}
    failures = {
        str(code): {
            "description": _WHY[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in errors
    }
    op: dict[str, Any] = {"summary": summary, "responses": {"200": success, **failures}}
    if secured:
        op["security"] = [{"bearer": []}]
    if body:
        op["requestBody"] = {"content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_TEXT = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}
_MINOR = {"type": "integer", "minimum": 0}
_REVIEW_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "amount": {"type": "integer", "minimum": 1, "description": "approve only: minor units (default: all)"},
        "by": {"type": "string", "description": "the operator token only: on whose behalf"},
        "note": {"type": "string", "maxLength": 2000},
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Refund Hub",
        "version": "0.1.0",
        "description": "Admin API (a person's API token with scopes, or the operator's bootstrap token) and the "
        "webhook receivers. Amounts are minor units of the refund's currency; times are ISO 8601 with their zone.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": _ERROR, **_DEFINITIONS["$defs"]},
    },
    "paths": {
        "/api/refunds": {
            "get": _op(
                "Refunds of the caller's stores, newest first, filtered, a page at a time",
                "a page of refunds",
                answers=RefundPage,
                params=[
                    _query("store_id", _TEXT, "one store"),
                    _query("state", _TEXT, "one state (requested, review, approved, succeeded, written_back, ...)"),
                    _query("connector", _TEXT, "the platform: shopify, woocommerce, magento, ..."),
                    _query("route", _TEXT, "who moved the money: gateway:<account>, platform or none"),
                    _query("reason", _TEXT, "the normalized reason code"),
                    _query("currency", _TEXT, "ISO 4217 code; amount_min/amount_max are in its minor units"),
                    _query("created_from", _TIME, "created at or after (a date or a time; UTC without a zone)"),
                    _query("created_before", _TIME, "created before"),
                    _query("amount_min", _MINOR, "requested amount at least"),
                    _query("amount_max", _MINOR, "requested amount at most"),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "page size (default 100)"),
                    _query("cursor", _TEXT, "next_cursor of the previous page"),
                ],
            )
        },
        "/api/refunds/{refund_id}": {
            "get": _op(
                "A refund with its audit trail",
                "the refund",
                answers=RefundOut,
                errors=(401, 403, 404),
                params=[_path_param("refund_id")],
            )
        },
        "/api/refunds/{refund_id}/approve": {
            "post": _op(
                "Approve a refund waiting for a person (optionally a smaller amount); above the store's "
                "two_approvers_above a second, different approver must approve the same amount",
                "the new state",
                answers=ReviewAnswer,
                errors=(400, 401, 403, 404, 409),
                params=[_path_param("refund_id")],
                body=_REVIEW_BODY,
            )
        },
        "/api/refunds/{refund_id}/deny": {
            "post": _op(
                "Deny a refund waiting for a person; the note is the reason the customer is told",
                "the new state",
                answers=ReviewAnswer,
                errors=(400, 401, 403, 404, 409),
                params=[_path_param("refund_id")],
                body=_REVIEW_BODY,
            )
        },
        "/api/refunds/{refund_id}/alternative": {
            "post": _op(
                "Take the alternative on offer (store credit, a coupon) for the customer: issued on the platform "
                "once, the store's bonus included; asking again answers the same credit",
                "the credit being issued",
                answers={
                    "type": "object",
                    "properties": {"id": _TEXT, "credit": {"type": "object"}},
                    "required": ["id", "credit"],
                },
                errors=(400, 401, 403, 404, 409),
                params=[_path_param("refund_id")],
                body={
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "kind": {"type": "string", "description": "if given: what the caller expects on offer"},
                        "by": {"type": "string", "description": "the operator token only: on whose behalf"},
                    },
                },
            )
        },
        "/api/deliveries": {
            "get": _op(
                "Deliveries by status (default: dead letters), newest first",
                "deliveries",
                answers=DeliveryList,
                params=[
                    _query(
                        "status", {"type": "string", "enum": ["dead", "received", "done", "ignored", "ack"]}, "status"
                    )
                ],
            )
        },
        "/api/data-exports": {
            "get": _op(
                "What the hub holds on customers who made a data request, newest first",
                "data exports",
                answers={
                    "type": "object",
                    "properties": {"data_exports": {"type": "array", "items": {"type": "object"}}},
                    "required": ["data_exports"],
                },
                params=[_query("store_id", _TEXT, "one store"), _query("limit", {"type": "integer"}, "page size")],
            )
        },
        "/api/deliveries/{delivery_id}/replay": {
            "post": _op(
                "Queue a delivery again (a dead letter after its cause is fixed)",
                "queued again",
                answers=ReplayAnswer,
                errors=(401, 403, 404, 409),
                params=[_path_param("delivery_id")],
            )
        },
        "/webhooks/{connector}": {
            "post": _op(
                "Platform webhook (signed by the platform)",
                "stored, or a duplicate of a stored delivery",
                answers={"type": "object"},
                errors=(400, 401, 404, 413, 503),
                secured=False,
                params=[_path_param("connector")],
            )
        },
        "/webhooks/gateway/{account}": {
            "post": _op(
                "Gateway status webhook (signed by the gateway)",
                "stored, or a duplicate of a stored delivery",
                answers={"type": "object"},
                errors=(400, 401, 404, 413, 503),
                secured=False,
                params=[_path_param("account")],
            )
        },
        "/healthz": {
            "get": _op(
                "Liveness and database reachability",
                "ok",
                answers={"type": "object", "properties": {"status": _TEXT}},
                errors=(503,),
                secured=False,
            )
        },
        "/metrics": {
            "get": _op(
                "Prometheus metrics (public only with hub.metrics_public)",
                "text exposition",
                errors=(401,),
            )
        },
    },
}
