"""Signed links a customer can open without signing in: the order (to ask for a refund), the
refund's status page (also where an offered alternative is accepted) and the feedback survey.

Each link names its store and is signed with the hub's first secret key and a salt per purpose,
so a status link cannot be replayed as a survey link, nor a link of one store read in another.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from hub.runtime.bootstrap import Hub, secret_keys

PURPOSES = ("order", "status", "feedback")


def _serializer(hub: Hub, purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"no link purpose {purpose!r}")
    # the first key signs (as the console's sessions); the others still verify during a rotation
    keys = secret_keys(hub.config)
    return URLSafeTimedSerializer([*reversed(keys[1:]), keys[0]], salt=f"refund-hub-customer-{purpose}")


def sign(hub: Hub, purpose: str, connector: str, store_id: str, subject: str) -> str:
    """A token naming ``subject`` (an order id or a refund id) in one store."""
    return str(_serializer(hub, purpose).dumps({"c": connector, "s": store_id, "x": subject}))


def open_link(hub: Hub, purpose: str, token: str) -> tuple[str, str, str] | None:
    """(connector, store id, subject) of a valid, unexpired token; None for anything else."""
    max_age = hub.config.customer.link_days * 86400
    try:
        data: Any = _serializer(hub, purpose).loads(token, max_age=max_age)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("c", "s", "x")):
        return None
    return data["c"], data["s"], data["x"]


def url(hub: Hub, purpose: str, connector: str, store_id: str, subject: str) -> str:
    path = {"order": "order", "status": "status", "feedback": "feedback"}[purpose]
    base = hub.config.hub.public_url.rstrip("/")
    return f"{base}/customer/{path}/{sign(hub, purpose, connector, store_id, subject)}"
