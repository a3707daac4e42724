"""``POST /webhooks/<connector>`` and ``POST /webhooks/gateway/<account>``: verify on the raw
bytes, store delivery + job in one transaction, answer fast. No parsing, no outbound calls."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_input_stream

from hub.contracts import Headers, Inbound, Verified
from hub.errors import UNREADABLE, BodyTooLarge, IngestError, StorageUnavailable, UnknownConnector, UnsupportedMediaType
from hub.runtime.metrics import DELIVERIES

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from hub.ingest.group_commit import Intake
    from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)


def _inbound(environ: WSGIEnvironment, limit: int) -> Inbound:
    """The delivery as received, read from the WSGI environ."""
    length = _content_length(environ)
    if length is not None and length > limit:
        raise BodyTooLarge(f"body of {length} bytes is over the {limit}-byte limit")
    body = _body(environ, length, limit)
    if len(body) > limit:
        raise BodyTooLarge(f"body is over the {limit}-byte limit")
    query = environ.get("QUERY_STRING", "")
    return Inbound(
        headers=Headers.lowercase(_headers(environ)),
        body=body,
        content_type=environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower(),
        query=_query(query) if query else {},
        url=_uri(environ, query),
    )


def _content_length(environ: WSGIEnvironment) -> int | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


class IncompleteBody(IngestError):
    """Fewer body bytes than the Content-Length announced: the client closed early, or paused
    longer than the web worker's read timeout (``hub/cli/serve.py``)."""

    code = "incomplete_body"


def _body(environ: WSGIEnvironment, length: int | None, limit: int) -> bytes:
    """The raw body: one read of the server's stream when the length is known; otherwise (chunked)
    through werkzeug's terminated-stream handling, never more than one byte over the limit."""
    if length is not None:
        try:
            body: bytes = environ["wsgi.input"].read(length) if length else b""
        except OSError as exc:  # the server's read timed out (TimeoutError) or the connection broke
            raise IncompleteBody(f"the body stopped before its {length} bytes ({type(exc).__name__})") from exc
        if len(body) < length:
            raise IncompleteBody(f"the body ended after {len(body)} of the {length} bytes announced")
        return body
    return get_input_stream(environ).read(limit + 1)


def _query(query: str) -> dict[str, str]:
    """Decoded as werkzeug does (UTF-8 after the server's latin-1); the first of repeated keys."""
    pairs = parse_qsl(query.encode("latin-1").decode("utf-8", "replace"), keep_blank_values=True)
    found: dict[str, str] = {}
    for key, value in pairs:
        found.setdefault(key, value)
    return found


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    """The request headers, lower-case, straight from the WSGI environ (cheaper than werkzeug's view)."""
    found = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            found[key.replace("_", "-").lower()] = environ[key]
    return found


def _uri(environ: WSGIEnvironment, query: str) -> str:
    """The request URL in ASCII form, as sent (``request.url`` also decodes it to an IRI,
    which costs more than verifying the signature and no verifier needs)."""
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
    tail = "?" + quote(query.encode("latin-1"), safe=_QUERY_SAFE) if query else ""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or _server_host(environ, scheme)
    return f"{scheme}://{host}{quote(path, safe=_PATH_SAFE)}{tail}"


def _server_host(environ: WSGIEnvironment, scheme: str) -> str:
    port = environ.get("SERVER_PORT", "")
    default = {"http": "80", "https": "443"}.get(scheme)
    return environ.get("SERVER_NAME", "") + (f":{port}" if port and port != default else "")


_PATH_SAFE, _QUERY_SAFE = "!$&'()*+,/:;=@%", "!$&'()*+,/:;=?@%"


class WebhookEndpoint:
    """``POST /webhooks/<connector>`` and ``POST /webhooks/gateway/<account>`` as plain WSGI in
    front of Flask (``app.wsgi_app``). This is the hub's hot path: Flask's request context,
    routing and response objects cost as much CPU per delivery as verifying and storing it
    (bench/ingest.py). Answers are JSON, errors as in the rest of the app; every other request,
    and other methods on these paths, go on to Flask."""

    def __init__(self, hub: Hub, intake: Intake, app: WSGIApplication) -> None:
        self.hub = hub
        self.intake = intake
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "POST" or not path.startswith("/webhooks/"):
            return self.app(environ, start_response)
        status, answer = self._answer(path[len("/webhooks/") :], environ)
        body = json.dumps(answer).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(f"{status} {HTTP_STATUS_CODES[status]}", headers)
        return [body]

    def _answer(self, route: str, environ: WSGIEnvironment) -> tuple[int, dict[str, str]]:
        try:
            return self._receive(route, environ)
        except IngestError as exc:
            return exc.status, {"error": exc.code, "message": exc.message}
        except Exception:
            log.exception("webhook %s failed", route)
            return 500, {"error": "internal_server_error", "message": "the delivery was not stored; please retry"}

    def _receive(self, route: str, environ: WSGIEnvironment) -> tuple[int, dict[str, str]]:
        name, _, account = route.partition("/")
        if not account:
            connector = self.hub.connectors.get(name)
            if connector is None:
                raise UnknownConnector(f"no enabled connector {name!r}")
            return self._store(name, connector.verify, connector.content_types, environ)
        if name != "gateway" or "/" in account:
            raise UnknownConnector(f"no webhook endpoint at /webhooks/{route}")
        gateway = self.hub.gateways.get(account)
        if gateway is None:
            raise UnknownConnector(f"no configured gateway account {account!r}")
        return self._store(f"gateway:{account}", gateway.verify_webhook, (), environ)

    def _store(
        self, source: str, verifier: Callable[[Inbound], Verified], accepted: Sequence[str], environ: WSGIEnvironment
    ) -> tuple[int, dict[str, str]]:
        inbound = _inbound(environ, self.hub.config.hub.max_body_bytes)
        if accepted and inbound.content_type not in accepted:
            raise UnsupportedMediaType(f"{source} accepts {', '.join(accepted)}, not {inbound.content_type or 'none'}")
        try:
            verified = verifier(inbound)
        except IngestError:
            DELIVERIES.labels(connector=source, result="rejected").inc()
            raise
        except UNREADABLE as exc:  # a verifier that cannot read the body: the client's problem, not a 5xx
            DELIVERIES.labels(connector=source, result="rejected").inc()
            log.warning("%s could not read a delivery: %s", source, type(exc).__name__)
            message = f"the delivery could not be read ({type(exc).__name__})"
            return 400, {"error": "unreadable_delivery", "message": message}
        try:
            receipt = self.intake.receive(source, verified, inbound)
        except StorageUnavailable:
            DELIVERIES.labels(connector=source, result="store_failed").inc()
            return 503, {"error": "storage_unavailable", "message": "delivery not stored; please retry"}
        result = "duplicate" if receipt.duplicate else ("ack" if verified.ack_only else "accepted")
        DELIVERIES.labels(connector=source, result=result).inc()
        return 200, {"delivery_id": receipt.delivery_id, "result": result}
