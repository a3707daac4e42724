"""Times as vendors write them: RFC 3339 / ISO 8601 text with ``Z`` or an offset."""

from __future__ import annotations

from datetime import datetime


def parse_rfc3339(value: object) -> datetime | None:
    """``2026-02-19T21:34:41.851Z`` → an aware datetime; None for anything that is not such text."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
