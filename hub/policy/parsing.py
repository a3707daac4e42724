"""Small readers every policy section shares: a table read whole, names used once, day counts
within the history the ledger supplies."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hub.policy.errors import PolicyError
from hub.policy.schema import Table

REVIEW_OR_DENY = ("deny", "review")
_T = TypeVar("_T")


def closed(table: Table, read: Callable[[Table], _T]) -> _T:
    value = read(table)
    table.finish()
    return value


def unique(names: list[str], key: str, field: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise PolicyError(f"{key}[{i}].{field}", f"{name!r} is used twice")
        seen.add(name)


def days_within(table: Table, name: str, default: int, lookback: int) -> int:
    days: int = table.integer(name, default, minimum=1)
    if days > lookback:
        raise table.fail(name, f"must be <= history.lookback_days ({lookback}): older refunds are not supplied")
    return days
