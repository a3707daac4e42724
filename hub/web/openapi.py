"""The OpenAPI 3.1 document of the admin API and the webhook endpoints."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
_ERRORS = {
    str(code): {
        "description": text,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for code, text in (
        (401, "missing or wrong token / bad signature"),
        (403, "admin API disabled"),
        (404, "not found"),
        (409, "conflict"),
    )
}


def _op(
    summary: str,
    ok: str,
    *,
    secured: bool = True,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {"200": {"description": ok}, **_ERRORS}}
    if secured:
        op["security"] = [{"bearer": []}]
    if body:
        op["requestBody"] = {"content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Refund Hub",
        "version": "0.1.0",
        "description": "Admin API (bearer token: REFUND_HUB_ADMIN_TOKEN) and webhook receivers.",
    },
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": {"Error": _ERROR}},
    "paths": {
        "/api/refunds": {
            "get": _op(
                "List refunds, newest first",
                "refunds",
                params=[
                    {"name": "state", "in": "query", "schema": {"type": "string"}},
                    {"name": "store_id", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 500}},
                ],
            )
        },
        "/api/refunds/{refund_id}": {
            "get": _op("A refund with its audit trail", "the refund", params=[_path_param("refund_id")])
        },
        "/api/refunds/{refund_id}/approve": {
            "post": _op(
                "Approve a refund in review (optionally a smaller amount)",
                "new state",
                params=[_path_param("refund_id")],
                body={
                    "type": "object",
                    "properties": {
                        "amount": {"type": "integer", "minimum": 1},
                        "by": {"type": "string"},
                        "note": {"type": "string"},
                    },
                },
            )
        },
        "/api/refunds/{refund_id}/deny": {
            "post": _op("Deny a refund in review", "new state", params=[_path_param("refund_id")])
        },
        "/api/deliveries": {
            "get": _op(
                "Deliveries by status (default: dead letters)",
                "deliveries",
                params=[
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["dead", "received", "done", "ack"]},
                    }
                ],
            )
        },
        "/api/data-exports": {
            "get": _op(
                "What the hub holds on customers who made a data request, newest first",
                "data exports",
                params=[{"name": "store_id", "in": "query", "schema": {"type": "string"}}],
            )
        },
        "/api/deliveries/{delivery_id}/replay": {
            "post": _op("Replay a delivery", "queued again", params=[_path_param("delivery_id")])
        },
        "/webhooks/{connector}": {
            "post": _op(
                "Platform webhook (signed by the platform)", "stored", secured=False, params=[_path_param("connector")]
            )
        },
        "/webhooks/gateway/{account}": {
            "post": _op("Gateway status webhook", "stored", secured=False, params=[_path_param("account")])
        },
        "/healthz": {"get": _op("Liveness and database reachability", "ok", secured=False)},
        "/metrics": {"get": _op("Prometheus metrics (public only with hub.metrics_public)", "text exposition")},
    },
}
