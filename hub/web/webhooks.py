"""``POST /webhooks/<connector>`` and ``POST /webhooks/gateway/<account>``: verify on the raw
bytes, store delivery + job in one transaction, answer fast. No parsing, no outbound calls."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request

from hub.contracts import Headers, Inbound
from hub.errors import BodyTooLarge, StorageUnavailable, UnknownConnector, UnsupportedMediaType
from hub.metrics import DELIVERIES
from hub.web.app import current_hub, current_intake

bp = Blueprint("webhooks", __name__)


def _inbound(limit: int) -> Inbound:
    """The delivery as received, read from the WSGI environ (each ``request.x`` goes through
    werkzeug's context-local proxy: together they cost more than verifying the signature)."""
    environ = request.environ
    length = _content_length(environ)
    if length is not None and length > limit:
        raise BodyTooLarge(f"body of {length} bytes is over the {limit}-byte limit")
    body = _body(environ, length)
    if len(body) > limit:
        raise BodyTooLarge(f"body is over the {limit}-byte limit")
    query = environ.get("QUERY_STRING", "")
    return Inbound(
        headers=Headers.lowercase(_headers(environ)),
        body=body,
        content_type=environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower(),
        query=request.args.to_dict() if query else {},
        url=_uri(environ, query),
    )


def _content_length(environ: dict[str, Any]) -> int | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


def _body(environ: dict[str, Any], length: int | None) -> bytes:
    """The raw body: with a Content-Length, one read of the server's input stream (werkzeug's
    wrapped stream costs more than the HMAC over the body); otherwise werkzeug's reader."""
    if length is not None and "wsgi.input" in environ:
        return environ["wsgi.input"].read(length)  # type: ignore[no-any-return]
    return request.get_data(cache=False)


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request headers, lower-case, straight from the WSGI environ (cheaper than werkzeug's view)."""
    found = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            found[key.replace("_", "-").lower()] = environ[key]
    return found


def _uri(environ: dict[str, Any], query: str) -> str:
    """The request URL in ASCII form, as sent (``request.url`` also decodes it to an IRI,
    which costs more than verifying the signature and no verifier needs)."""
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
    tail = "?" + quote(query.encode("latin-1"), safe=_QUERY_SAFE) if query else ""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or _server_host(environ, scheme)
    return f"{scheme}://{host}{quote(path, safe=_PATH_SAFE)}{tail}"


def _server_host(environ: dict[str, Any], scheme: str) -> str:
    port = environ.get("SERVER_PORT", "")
    default = {"http": "80", "https": "443"}.get(scheme)
    return environ.get("SERVER_NAME", "") + (f":{port}" if port and port != default else "")


_PATH_SAFE, _QUERY_SAFE = "!$&'()*+,/:;=@%", "!$&'()*+,/:;=?@%"


def _store(source: str, verifier, accepted: tuple[str, ...]) -> tuple[Response, int]:  # type: ignore[no-untyped-def]
    hub = current_hub()
    inbound = _inbound(hub.config.hub.max_body_bytes)
    if accepted and inbound.content_type not in accepted:
        raise UnsupportedMediaType(f"{source} accepts {', '.join(accepted)}, not {inbound.content_type or 'none'}")
    try:
        verified = verifier(inbound)
    except Exception:
        DELIVERIES.labels(connector=source, result="rejected").inc()
        raise
    try:
        receipt = current_intake().receive(source, verified, inbound)
    except StorageUnavailable:
        DELIVERIES.labels(connector=source, result="store_failed").inc()
        return jsonify(error="storage_unavailable", message="delivery not stored; please retry"), 503
    result = "duplicate" if receipt.duplicate else ("ack" if verified.ack_only else "accepted")
    DELIVERIES.labels(connector=source, result=result).inc()
    answer = json.dumps({"delivery_id": receipt.delivery_id, "result": result})
    return Response(answer, mimetype="application/json"), 200


@bp.post("/webhooks/<name>")
def platform_webhook(name: str) -> tuple[Response, int]:
    connector = current_hub().connectors.get(name)
    if connector is None:
        raise UnknownConnector(f"no enabled connector {name!r}")
    return _store(name, connector.verify, connector.content_types)


@bp.post("/webhooks/gateway/<account>")
def gateway_webhook(account: str) -> tuple[Response, int]:
    gateway = current_hub().gateways.get(account)
    if gateway is None:
        raise UnknownConnector(f"no configured gateway account {account!r}")
    return _store(f"gateway:{account}", gateway.verify_webhook, ())
