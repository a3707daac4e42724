"""WSGI apps the ingest benchmark serves with gunicorn: a bare Flask endpoint (the ceiling)
and the real hub (``REFUND_HUB_CONFIG`` points at the benchmark's configuration)."""

from __future__ import annotations

from flask import Flask, jsonify, request

bare_app = Flask("bare")


@bare_app.get("/healthz")
def health():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")


@bare_app.post("/webhooks/<name>")
def bare(name: str):  # type: ignore[no-untyped-def]
    request.get_data()
    return jsonify(result="accepted")


def hub_app():  # type: ignore[no-untyped-def]
    from hub.runtime.config import load_config
    from hub.web.app import create_app

    return create_app(load_config(), migrate=False)
