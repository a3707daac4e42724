"""Which deliveries the hub must store: the rule the fuzz run holds every endpoint to.

RULE (printed by ``bench/fuzz.py``): a request that is
  1. signed correctly with the endpoint's secret or key, exactly as its platform signs,
  2. with the platform's own headers and content type, untouched, and
  3. whose body is within ``hub.max_body_bytes`` and is UTF-8 JSON that Python's ``json``
     reads as an object, nesting at most 64 levels, no lone surrogate in any string or key,
     still carrying the event identity the platform always sends (Stripe ``id``/``type``,
     PayPal ``id``/``event_type``, Square ``event_id``/``type``, Adobe I/O ``source``/
     ``recipient_client_id``/``event_id``/``type`` of this store's registration, a Commerce
     webhook's ``eventName`` as text when present)
must be answered 2xx (stored, or a duplicate of a stored one). Anything else may get a 4xx
(401 not authentic, 400 unreadable, 413, 415), never a 5xx. Type-confused fields inside such a
body do not excuse a refusal: the endpoint stores, the worker dead-letters.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64

RULE = (
    "must be stored (2xx): signed correctly + the platform's own headers and content type + a body "
    "within max_body_bytes, UTF-8, that json reads as an object (nesting <= 64, no lone surrogates) "
    "keeping the event identity fields its platform always sends (Stripe id/type, PayPal id/event_type, "
    "Square event_id/type, Adobe I/O source/recipient/event_id/type of this store). "
    "Every other request: any 4xx, never 5xx."
)


def json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a well-formed JSON object, or None."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict) or not sound(data):
        return None
    return data


def sound(data: Any) -> bool:
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not _unicode(value):
                return False
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                return False
            if isinstance(value, dict):
                if not all(_unicode(k) for k in value):
                    return False
                stack.extend((v, depth + 1) for v in value.values())
            else:
                stack.extend((v, depth + 1) for v in value)
    return True


def _unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
