"""``/healthz`` (database reachable) and ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from hub.ledger.unit import ping
from hub.runtime.metrics import render
from hub.web.app import current_hub
from hub.web.auth import bearer_matches

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        ping(current_hub().engine)
    except Exception:  # noqa: BLE001 - any failure to answer is "unhealthy"; the reason goes to the log only
        log.exception("health check: the database did not answer")
        return jsonify(status="unhealthy", database="unreachable"), 503
    return jsonify(status="ok"), 200


@bp.get("/metrics")
def metrics() -> Response | tuple[Response, int]:
    """Public only where ``hub.metrics_public`` says so; else the admin bearer token."""
    settings = current_hub().config.hub
    if not settings.metrics_public:
        token = settings.metrics_token or settings.admin_token
        if not token or not bearer_matches(request.headers.get("Authorization", ""), token):
            return jsonify(error="unauthorized", message="metrics need Authorization: Bearer <token>"), 401
    return Response(render(current_hub().engine), mimetype="text/plain; version=0.0.4")
