"""Read a policy from a TOML (or, when PyYAML is importable, YAML) file or an already-parsed table."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from hub.policy.errors import PolicyError
from hub.policy.policy import Policy
from hub.policy.schema import Table
from hub.policy.sections import parse_sections


def load_policy(source: str | os.PathLike[str] | Mapping[str, Any]) -> Policy:
    """A validated ``Policy``; raises ``PolicyError`` naming the key path of the first problem."""
    if isinstance(source, Mapping):
        return build_policy(source)
    path = Path(source)
    data = read_file(path)
    try:
        return build_policy(data)
    except PolicyError as exc:
        raise exc.with_source(str(path)) from None


def read_file(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError("policy", f"cannot read the file: {exc}", source=str(path)) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return _parse_yaml(text, path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError("policy", f"not valid TOML: {exc}", source=str(path)) from None


def _parse_yaml(text: str, path: Path) -> Mapping[str, Any]:
    try:
        import yaml  # optional: PyYAML is not a declared dependency, TOML is the format we promise
    except ImportError:
        raise PolicyError("policy", "YAML policies need PyYAML installed; use TOML", source=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError("policy", f"not valid YAML: {exc}", source=str(path)) from None
    return data if data is not None else {}


def content_hash(data: Mapping[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:10]


def build_policy(data: Mapping[str, Any]) -> Policy:
    root = Table(data)
    sections = parse_sections(root)
    label = data.get("version")
    if label is not None and (isinstance(label, (bool, list, dict)) or not str(label).strip()):
        raise PolicyError("version", "must be a string such as '2025-03-01'")
    label_text = str(label).strip() if label is not None else "unversioned"
    return Policy(
        version=f"{label_text}+{content_hash(data)}",
        sections=sections,
        source=MappingProxyType(dict(data)),
        zone=ZoneInfo(sections.timezone),
    )
