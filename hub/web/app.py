"""``create_app``: the Flask app factory. Tests inject fakes; production fills the gaps from
the configuration and entry points (Flask's application factory; the hub lives in ``app.extensions``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from threading import Lock
from typing import Any

from flask import Flask, Response, current_app
from werkzeug.exceptions import HTTPException

from hub.errors import IngestError
from hub.ingest.group_commit import Intake
from hub.ingest.service import ServiceWriter
from hub.ingest.writer import DeliveryWriter, Writer
from hub.ledger.unit import Engine
from hub.runtime.bootstrap import Dispatcher, Hub, bootstrap
from hub.runtime.config import Config, load_config
from hub.runtime.logs import configure_logging
from hub.web.auth import configure_sessions
from hub.web.pages import problem
from hub.web.webhooks import WebhookEndpoint

log = logging.getLogger(__name__)


def create_app(
    config: Config | None = None,
    *,
    connectors: Mapping[str, Any] | None = None,
    gateways: Mapping[str, Any] | None = None,
    engine: Engine | None = None,
    dispatcher: Dispatcher | None = None,
    hub: Hub | None = None,
    migrate: bool = True,
) -> Flask:
    config = config or (hub.config if hub else load_config())
    configure_logging(config.hub.log_level)
    if hub is None:
        hub = bootstrap(
            config, connectors=connectors, gateways=gateways, engine=engine, dispatcher=dispatcher, migrate=migrate
        )
        if dispatcher is None:
            hub.dispatcher = _queue_dispatcher(hub)
    app = Flask("refund_hub")
    app.config["MAX_CONTENT_LENGTH"] = config.hub.max_body_bytes
    app.extensions["refund_hub"] = hub
    configure_sessions(app, hub)
    intake = app.extensions["refund_hub_intake"] = Intake(_writer(hub), hub.dispatcher)
    app.wsgi_app = WebhookEndpoint(hub, intake, app.wsgi_app)  # type: ignore[method-assign]

    from hub.web.admin import bp as admin_bp
    from hub.web.exports import bp as exports_bp
    from hub.web.ops import bp as ops_bp
    from hub.web.subscriptions import bp as subscriptions_bp

    app.register_blueprint(ops_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(subscriptions_bp)  # outgoing webhooks
    app.register_blueprint(exports_bp)  # CSV exports, streamed
    for connector in hub.connectors.values():
        extra = connector.blueprint()
        if extra is not None:
            app.register_blueprint(extra)
    from hub.console import register as register_console  # here: the console imports this module
    from hub.customer import register as register_customer
    from hub.web.framed import register as register_framed

    register_framed(app, hub)  # before the console: a framed request is authenticated first

    register_console(app)  # the merchant console at /, CSRF on its forms only
    register_customer(app)  # the customer's request, status and feedback pages at /customer

    @app.errorhandler(IngestError)
    def _ingest_error(exc: IngestError) -> Response:
        return problem(exc.code, exc.message, exc.status)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        return problem(code, exc.description or code, exc.code or 500)

    return app


def _writer(hub: Hub) -> Writer:
    """Through the ingest service when it is configured (it may not run: then written here)."""
    writer = DeliveryWriter(hub.engine)
    if hub.config.hub.ingest_service:
        return ServiceWriter(hub.config.hub.ingest_socket, writer)
    return writer


def _queue_dispatcher(hub: Hub) -> Dispatcher:
    return _FirstWakeDispatcher(hub)


class _FirstWakeDispatcher:
    """The queue's dispatcher, made at the first wake-up: a web worker whose deliveries the
    ingest service stores (and wakes for) never loads Huey, its Redis and PostgreSQL clients or
    the runner (about 25 MB of each worker's memory, bench/memory.py)."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._made: Dispatcher | None = None
        self._making = Lock()

    def wake(self) -> None:
        with self._making:
            if self._made is None:
                from hub.work.queue import HueyDispatcher, make_huey
                from hub.work.runner import drain

                hub = self._hub
                self._made = HueyDispatcher(make_huey(hub.config.hub.queue), lambda: drain(hub))
        self._made.wake()


def current_hub() -> Hub:
    return current_app.extensions["refund_hub"]  # type: ignore[no-any-return]
