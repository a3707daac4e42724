"""A strict reader over the parsed policy mapping: typed getters that name the key path on error
and refuse keys nobody read (typos surface as ``exclusions.skus_: unknown key``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar, overload

from hub.policy.errors import PolicyError


class _Missing(Enum):
    """No default given: the key is required."""

    MISSING = "missing"


_MISSING = _Missing.MISSING
_D = TypeVar("_D")


class Table:
    def __init__(self, data: object, path: str = "") -> None:
        if not isinstance(data, Mapping):
            raise PolicyError(path or "policy", "must be a table")
        self.data: Mapping[str, object] = data
        self.path = path
        self.read: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, problem: str) -> PolicyError:
        return PolicyError(self.key(name), problem)

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str, default: object = _MISSING) -> object:
        """The value as parsed (any TOML/YAML value), or ``default``; the typed getters check it."""
        self.read.add(name)
        if name in self.data:
            return self.data[name]
        if default is _MISSING:
            raise self.fail(name, "is required")
        return default

    @overload
    def text(self, name: str, *, choices: Iterable[str] | None = None) -> str: ...
    @overload
    def text(self, name: str, default: _D, *, choices: Iterable[str] | None = None) -> str | _D: ...
    def text(self, name: str, default: object = _MISSING, *, choices: Iterable[str] | None = None) -> object:
        if name not in self.data:
            return self.raw(name, default)
        value = self.raw(name)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, "must be a non-empty string")
        if choices is not None and value not in choices:
            raise self.fail(name, f"must be one of {', '.join(sorted(choices))} (got {value!r})")
        return value

    @overload
    def integer(self, name: str, *, minimum: int | None = 0) -> int: ...
    @overload
    def integer(self, name: str, default: _D, *, minimum: int | None = 0) -> int | _D: ...
    def integer(self, name: str, default: object = _MISSING, *, minimum: int | None = 0) -> object:
        if name not in self.data:
            return self.raw(name, default)
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, "must be a whole number")
        if minimum is not None and value < minimum:
            raise self.fail(name, f"must be >= {minimum}")
        return value

    def optional_integer(self, name: str, default: int | None, *, minimum: int = 0) -> int | None:
        """A whole number, or ``false`` to switch the limit off (None)."""
        if self.data.get(name, True) is False:
            self.read.add(name)
            return None
        return self.integer(name, default, minimum=minimum)

    @overload
    def number(self, name: str, *, minimum: Decimal | None = Decimal(0)) -> Decimal: ...
    @overload
    def number(self, name: str, default: _D, *, minimum: Decimal | None = Decimal(0)) -> Decimal | _D: ...
    def number(self, name: str, default: object = _MISSING, *, minimum: Decimal | None = Decimal(0)) -> object:
        if name not in self.data:
            return self.raw(name, default)
        return to_decimal(self.raw(name), self.key(name), minimum=minimum)

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, "must be true or false")
        return value

    def texts(self, name: str, default: Iterable[str] = (), *, choices: Iterable[str] | None = None) -> tuple[str, ...]:
        value = self.raw(name, tuple(default))
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise self.fail(name, "must be a list of strings")
        allowed = set(choices) if choices is not None else None
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise PolicyError(f"{self.key(name)}[{i}]", "must be a non-empty string")
            if allowed is not None and item not in allowed:
                raise PolicyError(
                    f"{self.key(name)}[{i}]", f"must be one of {', '.join(sorted(allowed))} (got {item!r})"
                )
        return tuple(value)

    def table(self, name: str) -> Table:
        """A sub-table; an absent one reads as empty so defaults apply."""
        return Table(self.raw(name, {}), self.key(name))

    def tables(self, name: str) -> list[Table]:
        value = self.raw(name, [])
        if not isinstance(value, (list, tuple)):
            raise self.fail(name, "must be a list of tables")
        return [Table(item, f"{self.key(name)}[{i}]") for i, item in enumerate(value)]

    def finish(self) -> None:
        """Refuse keys nobody read: they are typos or options this version does not have."""
        for name in self.data:
            if name not in self.read:
                hint = difflib.get_close_matches(str(name), sorted(self.read), n=1)
                suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise self.fail(str(name), f"unknown key{suffix}")


def to_decimal(value: object, key: str, *, minimum: Decimal | None = Decimal(0)) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise PolicyError(key, "must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise PolicyError(key, f"must be a number (got {value!r})") from None
    if not number.is_finite():
        raise PolicyError(key, "must be a finite number")
    if minimum is not None and number < minimum:
        raise PolicyError(key, f"must be >= {minimum}")
    return number
