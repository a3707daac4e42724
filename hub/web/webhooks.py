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
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(f"body of {request.content_length} bytes is over the {limit}-byte limit")
    body = _body(limit)
    environ = request.environ
    return Inbound(
        headers=Headers(_headers(environ)),
        body=body,
        content_type=environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower(),
        query=request.args.to_dict() if environ.get("QUERY_STRING") else {},
        url=_uri(),
    )


def _body(limit: int) -> bytes:
    """The raw body: with a Content-Length, one read of the server's input stream (werkzeug's
    wrapped stream costs more than the HMAC over the body); otherwise werkzeug's reader."""
    length = request.content_length
    if length is not None and "wsgi.input" in request.environ:
        body: bytes = request.environ["wsgi.input"].read(length)
    else:
        body = request.get_data(cache=False)
    if len(body) > limit:
        raise BodyTooLarge(f"body is over the {limit}-byte limit")
    return body


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request headers straight from the WSGI environ (cheaper than werkzeug's view)."""
    found = {key[5:].replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            found[key.replace("_", "-")] = environ[key]
    return found


def _uri() -> str:
    """The request URL in ASCII form, as sent (``request.url`` also decodes it to an IRI,
    which costs more than verifying the signature and no verifier needs)."""
    query = request.query_string
    tail = "?" + quote(query, safe=_QUERY_SAFE) if query else ""
    return f"{request.scheme}://{request.host}{quote(request.root_path + request.path, safe=_PATH_SAFE)}{tail}"


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
