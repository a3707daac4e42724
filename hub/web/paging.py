"""Cursor paging and list filters for the JSON API, read strictly (a bad value is a 400).

A cursor is opaque to clients: the last row's ``(created_at, id)`` in URL-safe base64, so a page
boundary stays put while new refunds arrive (keyset paging, no OFFSET scans at a million rows).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from flask import Request

from hub.ledger import states
from hub.web.bodies import BadRequest

KNOWN_STATES = frozenset(value for name, value in vars(states).items() if name.isupper() and isinstance(value, str))


def cursor_of(at: datetime, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def cursor_arg(request: Request, name: str = "cursor") -> tuple[datetime, str] | None:
    text = request.args.get(name)
    if not text:
        return None
    try:
        at, _, row_id = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().partition("|")
        return _aware(datetime.fromisoformat(at)), _nonempty(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest(f"invalid_{name}", f"{name} is not a cursor this API gave out") from None


def position_of(row_id: int) -> str:
    """The cursor of rows keyed by a growing integer id alone (a report's items, in the order found)."""
    return base64.urlsafe_b64encode(f"#{row_id}".encode()).decode().rstrip("=")


def position_arg(request: Request, name: str = "after") -> int:
    """The id a ``position_of`` cursor names; 0 (before the first row) without one."""
    text = request.args.get(name)
    if not text:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        digits = decoded.removeprefix("#")
        if digits == decoded or not digits.isdigit() or len(digits) > 18:
            raise ValueError(decoded)
        return int(digits)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest(f"invalid_{name}", f"{name} is not a cursor this hub gave out") from None


def time_arg(request: Request, name: str) -> datetime | None:
    """An ISO 8601 time (``2026-12-01`` or ``2026-12-01T10:00:00+01:00``); without a zone, UTC."""
    text = request.args.get(name)
    if not text:
        return None
    try:
        return _aware(datetime.fromisoformat(text))
    except ValueError:
        raise BadRequest(f"invalid_{name}", f"{name} must be an ISO 8601 date or time, e.g. 2026-12-01") from None


def state_arg(request: Request) -> str | None:
    state = request.args.get("state")
    if state is not None and state not in KNOWN_STATES:
        raise BadRequest("invalid_state", f"state must be one of {', '.join(sorted(KNOWN_STATES))}")
    return state or None


def amount_arg(request: Request, name: str) -> int | None:
    text = request.args.get(name)
    if text is None:
        return None
    if not text.isdigit() or len(text) > 18:
        raise BadRequest(f"invalid_{name}", f"{name} must be a whole number of minor units")
    return int(text)


def text_arg(request: Request, name: str, *, longest: int = 255) -> str | None:
    text = request.args.get(name)
    if text is not None and len(text) > longest:
        raise BadRequest(f"invalid_{name}", f"{name} is longer than {longest} characters")
    return text or None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _nonempty(text: str) -> str:
    if not text:
        raise ValueError("no id")
    return text
