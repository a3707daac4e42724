"""Magento's ``searchCriteria`` list semantics over in-memory records, for the simulator.

Filter groups are ANDed, the filters of a group ORed; sort orders apply in turn; a page past the
end answers the last page again, as Magento does (clients must stop on ``total_count``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

KEY = re.compile(r"^searchCriteria\[(filter_groups|sortOrders)\]\[(\d+)\](?:\[filters\]\[(\d+)\])?\[(\w+)\]$")


def _comparable(value: Any) -> tuple[int, Any]:
    try:
        return (0, float(value))
    except (TypeError, ValueError):
        return (1, str(value if value is not None else ""))


def _like(pattern: str) -> Callable[[Any], bool]:
    regex = re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("%")) + "$", re.IGNORECASE)
    return lambda actual: regex.match(str(actual or "")) is not None


def _test(condition: str, expected: str) -> Callable[[Any], bool]:
    if condition == "like":
        return _like(expected)
    if condition in ("in", "nin"):
        wanted = {_comparable(v) for v in expected.split(",")}
        return lambda actual: (_comparable(actual) in wanted) == (condition == "in")
    target = _comparable(expected)
    checks: dict[str, Callable[[Any, Any], bool]] = {
        "eq": lambda a, b: a == b,
        "neq": lambda a, b: a != b,
        "gt": lambda a, b: a > b,
        "gteq": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lteq": lambda a, b: a <= b,
    }
    check = checks.get(condition, checks["eq"])
    return lambda actual: actual is not None and check(_comparable(actual), target)


def criteria(
    args: Mapping[str, str],
) -> tuple[list[list[tuple[str, Callable[[Any], bool]]]], list[tuple[str, str]], int, int]:
    groups: dict[int, dict[int, dict[str, str]]] = {}
    sorts: dict[int, dict[str, str]] = {}
    for key, value in args.items():
        found = KEY.match(key)
        if not found:
            continue
        kind, index, filter_index, attribute = found.groups()
        if kind == "filter_groups" and filter_index is not None:
            groups.setdefault(int(index), {}).setdefault(int(filter_index), {})[attribute] = value
        elif kind == "sortOrders":
            sorts.setdefault(int(index), {})[attribute] = value
    filters = [
        [(f["field"], _test(f.get("condition_type", "eq"), f.get("value", ""))) for _, f in sorted(group.items())]
        for _, group in sorted(groups.items())
    ]
    order = [(s["field"], s.get("direction", "ASC").upper()) for _, s in sorted(sorts.items()) if "field" in s]
    size = int(args.get("searchCriteria[pageSize]") or 0)
    page = int(args.get("searchCriteria[currentPage]") or 1)
    return filters, order, size, page


def _by(field: str) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    return lambda record: _comparable(record.get(field))


def search(records: Iterable[Mapping[str, Any]], args: Mapping[str, str]) -> dict[str, Any]:
    filters, order, size, page = criteria(args)
    found = [r for r in records if all(any(test(r.get(field)) for field, test in group) for group in filters)]
    for field, direction in reversed(order):
        found.sort(key=_by(field), reverse=direction == "DESC")
    total = len(found)
    if size > 0:
        last = max(1, -(-total // size))
        page = min(max(page, 1), last)
        found = found[(page - 1) * size : page * size]
    return {"items": found, "search_criteria": {"page_size": size, "current_page": page}, "total_count": total}
