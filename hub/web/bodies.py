"""Reading what a client sent, whole and strictly, before anything acts on it.

An action that moves money or changes a decision must not run on a body it cannot read: a
broken JSON body, a field of the wrong type (``true`` is not an amount) or an unknown field is
a 400 naming the problem, never a default.
"""

from __future__ import annotations

import json
from typing import TypeVar

from flask import Request
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class BadRequest(Exception):
    """What the client sent cannot be used; ``code`` and ``message`` go back in a 400."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def json_body(request: Request, model: type[M]) -> M:
    """The request body as ``model``; an empty body is the model's defaults."""
    raw = request.get_data(cache=True)
    data: object = {}
    if raw.strip():
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise BadRequest("invalid_json", f"the body is not valid JSON: {exc}"[:300]) from exc
    if not isinstance(data, dict):
        raise BadRequest("invalid_body", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())
        raise BadRequest("invalid_body", problems[:500]) from exc


def int_arg(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    """A whole-number query parameter within [low, high]."""
    text = request.args.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadRequest(f"invalid_{name}", f"{name} must be a whole number from {low} to {high}")
    return int(text)
