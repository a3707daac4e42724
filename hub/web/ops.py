"""``/healthz`` (database reachable) and ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from hub.ledger.unit import ping
from hub.runtime.metrics import render
from hub.web.app import current_hub

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        ping(current_hub().engine)
    except Exception as exc:  # noqa: BLE001 - any failure to answer is "unhealthy"
        return jsonify(status="unhealthy", database=str(exc)[:200]), 503
    return jsonify(status="ok"), 200


@bp.get("/metrics")
def metrics() -> Response:
    return Response(render(current_hub().engine), mimetype="text/plain; version=0.0.4")
