"""The normalized schema as JSON Schema, for plugin authors in any language."""

from __future__ import annotations

from typing import Any

from hub.models import EventEnvelope

SCHEMA_ID = "https://refund-hub.dev/schema/event.json"


def json_schema() -> dict[str, Any]:
    schema = EventEnvelope.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "Refund Hub normalized event",  # after the model's own, which would otherwise win
    }
