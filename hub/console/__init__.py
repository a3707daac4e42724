"""The merchant console: server-rendered pages over the same read models and pipeline calls as
the JSON API, behind the signed session cookie (``hub.web.auth``), CSRF-checked forms.

``register(app)`` mounts it at ``/`` and turns on CSRF protection for the console only: the JSON
API, the ops endpoints and connector blueprints (install callbacks) stay exempt, and webhooks
never reach Flask."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def register(app: Flask) -> None:
    from hub.console import people_pages, policy_pages  # noqa: F401 - their routes join the console's blueprint
    from hub.console.pages import bp

    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)  # as long as a session lasts
    app.config.setdefault("WTF_CSRF_SSL_STRICT", True)
    others = list(app.blueprints.values())  # registered before the console: API, ops, connectors
    app.register_blueprint(bp)
    csrf.init_app(app)
    for blueprint in others:
        csrf.exempt(blueprint)
