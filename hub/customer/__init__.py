"""The customer's own pages: ask for a refund (for stores whose platform has no request of its
own, and usable on all), see what the policy would do, follow the refund, take an offered
alternative, say how it went. ``register(app)`` mounts them at ``/customer``."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from hub.customer.pages import bp

    app.register_blueprint(bp)
