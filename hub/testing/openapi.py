"""A small OpenAPI 3 checker for tests: required fields, enums, types and patterns of a body.

Gateway tests validate what the SDKs send and what the simulators answer against the vendors'
spec extracts (``tests/fixtures/specs/``). It is deliberately partial: local ``$ref``s,
``allOf`` / ``anyOf`` / ``oneOf`` (``oneOf`` is treated like ``anyOf``: vendor error unions
overlap), ``type``, ``required``, ``enum``, ``properties``, ``items``, ``pattern``,
``minLength`` / ``maxLength``, ``minimum`` / ``maximum``. Unknown properties are allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


class SpecViolation(AssertionError):
    """A body does not match its schema; ``errors`` lists every mismatch with its JSON path."""

    def __init__(self, where: str, errors: list[str]) -> None:
        super().__init__(f"{where}: " + "; ".join(errors))
        self.errors = errors


class OpenApi:
    """One spec document; ``check_request`` / ``check_response`` raise ``SpecViolation``."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    @classmethod
    def load(cls, path: str | Path) -> OpenApi:
        return cls(json.loads(Path(path).read_text()))

    # -- lookups ---------------------------------------------------------------------------
    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise KeyError(f"only local $refs are supported: {ref}")
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    # The document is parsed JSON: each lookup names the shape the spec format promises.
    def schema(self, name: str) -> Mapping[str, Any]:
        schema: Mapping[str, Any] = self.document["components"]["schemas"][name]
        return schema

    def operation(self, path: str, method: str) -> Mapping[str, Any]:
        try:
            operation: Mapping[str, Any] = self.document["paths"][path][method.lower()]
        except KeyError:
            raise KeyError(f"{method.upper()} {path} is not in the spec") from None
        return operation

    def request_schema(self, path: str, method: str) -> Mapping[str, Any]:
        body = self.resolve(self.operation(path, method)["requestBody"])
        schema: Mapping[str, Any] = body["content"]["application/json"]["schema"]
        return schema

    def response_schema(self, path: str, method: str, status: int) -> Mapping[str, Any] | None:
        responses = self.operation(path, method)["responses"]
        entry = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if entry is None:
            raise KeyError(f"{method.upper()} {path} documents no {status} response")
        content = self.resolve(entry).get("content", {})
        media = content.get("application/json")
        return None if media is None else media.get("schema")

    def parameter_names(self, path: str, method: str, location: str) -> set[str]:
        params = [self.resolve(p) for p in self.operation(path, method).get("parameters", [])]
        return {p["name"] for p in params if p.get("in") == location}

    # -- checks ----------------------------------------------------------------------------
    def check_request(self, path: str, method: str, body: Any) -> None:
        self._raise(f"request {method.upper()} {path}", self.errors(body, self.request_schema(path, method)))

    def check_response(self, path: str, method: str, status: int, body: Any) -> None:
        schema = self.response_schema(path, method, status)
        if schema is not None:
            self._raise(f"response {status} to {method.upper()} {path}", self.errors(body, schema))

    def check(self, body: Any, schema_name: str) -> None:
        self._raise(f"schema {schema_name}", self.errors(body, self.schema(schema_name)))

    @staticmethod
    def _raise(where: str, errors: list[str]) -> None:
        if errors:
            raise SpecViolation(where, errors)

    def errors(self, value: Any, schema: Mapping[str, Any], where: str = "$") -> list[str]:
        """Every way ``value`` breaks ``schema`` (empty when it conforms)."""
        schema = self.resolve(schema)
        found: list[str] = []
        for part in schema.get("allOf", []):
            found += self.errors(value, part, where)
        for key in ("anyOf", "oneOf"):
            if key in schema and not any(not self.errors(value, option, where) for option in schema[key]):
                found.append(f"{where}: matches none of the {key} alternatives")
        if value is None:
            if not schema.get("nullable") and "type" in schema:
                found.append(f"{where}: null where {schema['type']} expected")
            return found
        found += self._scalar_errors(value, schema, where)
        if isinstance(value, dict):
            found += self._object_errors(value, schema, where)
        if isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                found += self.errors(item, schema["items"], f"{where}[{index}]")
        return found

    def _scalar_errors(self, value: Any, schema: Mapping[str, Any], where: str) -> list[str]:
        found: list[str] = []
        expected = schema.get("type")
        if expected in _TYPES:
            wrong_bool = isinstance(value, bool) and expected in ("integer", "number")
            if wrong_bool or not isinstance(value, _TYPES[expected]):
                return [f"{where}: {type(value).__name__} where {expected} expected"]
        if "enum" in schema and value not in schema["enum"]:
            found.append(f"{where}: {value!r} not one of {schema['enum']}")
        if isinstance(value, str):
            if "pattern" in schema and re.search(schema["pattern"], value) is None:
                found.append(f"{where}: {value!r} does not match {schema['pattern']}")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                found.append(f"{where}: longer than {schema['maxLength']}")
            if "minLength" in schema and len(value) < schema["minLength"]:
                found.append(f"{where}: shorter than {schema['minLength']}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                found.append(f"{where}: below {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                found.append(f"{where}: above {schema['maximum']}")
        return found

    def _object_errors(self, value: dict[str, Any], schema: Mapping[str, Any], where: str) -> list[str]:
        found = [f"{where}: missing required {name!r}" for name in schema.get("required", []) if name not in value]
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                found += self.errors(value[name], sub, f"{where}.{name}")
        return found
