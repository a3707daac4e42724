"""``/healthz`` (database reachable) and ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from hub.db.engine import reading
from hub.runtime.metrics import render
from hub.web.app import current_hub

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        with reading(current_hub().engine) as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return jsonify(status="unhealthy", database=str(exc)[:200]), 503
    return jsonify(status="ok"), 200


@bp.get("/metrics")
def metrics() -> Response:
    return Response(render(current_hub().engine), mimetype="text/plain; version=0.0.4")
