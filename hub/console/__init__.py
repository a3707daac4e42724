"""The merchant console: server-rendered pages over the same read models and pipeline calls as
the JSON API, behind the signed session cookie (``hub.web.auth``), CSRF-checked forms.

``register(app)`` mounts it at ``/`` and turns on CSRF protection for the console's forms only
(not for framed requests, ``hub.web.framed``): the JSON API, the ops endpoints and connector
blueprints (install callbacks) are not checked, and webhooks never reach Flask."""

from __future__ import annotations

from flask import Flask, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
CHECKED = ("POST", "PUT", "PATCH", "DELETE")


def register(app: Flask) -> None:
    from hub.console import (  # noqa: F401 - join the blueprint
        account_pages,
        analytics_pages,
        people_pages,
        policy_pages,
        reconcile_pages,
        webhook_pages,
    )
    from hub.console.pages import bp
    from hub.web.framed import is_framed

    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)  # as long as a session lasts
    app.config.setdefault("WTF_CSRF_SSL_STRICT", True)
    # checked by the console itself: a form framed by a platform's admin carries that platform's
    # token instead of a cookie, so there is no ambient credential for CSRF to ride on
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.register_blueprint(bp)
    csrf.init_app(app)

    @app.before_request
    def _csrf() -> None:
        if request.blueprint == bp.name and request.method in CHECKED and not is_framed():
            csrf.protect()
