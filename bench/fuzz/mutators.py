"""Seeded mutations of a sample's JSON and hostile bodies.

``mutate(rng, data)`` returns ``(family, body)``: ``family`` names what was done (the per-family
counts and reproducers use it). Families keep the body valid JSON (type confusion, dropped and
added fields, re-encodings, duplicate keys) or break it (truncation, flipped and random bytes,
10⁵ brackets, 5 000-digit numbers, lone surrogates as raw ``\\ud800`` escapes, invalid UTF-8,
UTF-16, a BOM, bodies over the size limit)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from typing import Any

MARK = "\x00FUZZ-MARK\x00"
MARK_JSON = json.dumps(MARK)
DEEP = 100_000
HUGE_DIGITS = 5_000
Path = list[str | int]


def paths(data: Any, prefix: Path | None = None) -> list[Path]:
    """Every value's path in the tree (the root excluded)."""
    found: list[Path] = []
    stack: list[tuple[Any, Path]] = [(data, prefix or [])]
    while stack:
        value, here = stack.pop()
        items: list[tuple[str | int, Any]] = []
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        for key, child in items:
            found.append([*here, key])
            stack.append((child, [*here, key]))
    return sorted(found, key=lambda p: [str(k) for k in p])


def _set(data: Any, path: Path, value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _delete(data: Any, path: Path) -> None:
    for key in path[:-1]:
        data = data[key]
    del data[path[-1]]


def _dumps(data: Any, rng: random.Random | None = None) -> bytes:
    return json.dumps(data).encode()


def confusions(rng: random.Random) -> list[Any]:
    return [
        [],
        [1, "x", None],
        {},
        {"id": {"id": []}},
        None,
        True,
        False,
        "",
        "x" * rng.choice((1, 300, 70_000)),
        0,
        -1,
        2**63,
        -(2**64),
        1e308,
        -0.0,
        "\u0663\u0664",
        "<script>",
        "'; DROP TABLE deliveries; --",
    ]


def _raw_at(rng: random.Random, data: dict[str, Any], raw: str) -> bytes:
    """``data`` with one random value (or a new top-level member) replaced by raw JSON text."""
    tree = copy.deepcopy(data)
    found = paths(tree)
    if found and rng.random() < 0.8:
        _set(tree, rng.choice(found), MARK)
    else:
        tree[rng.choice(("id", "x", "data"))] = MARK
    return json.dumps(tree).replace(MARK_JSON, raw, 1).encode("utf-8", "surrogatepass")


def _type_confusion(rng: random.Random, data: dict[str, Any]) -> bytes:
    tree = copy.deepcopy(data)
    found = paths(tree)
    for path in rng.sample(found, k=min(len(found), rng.choice((1, 1, 2, 5)))):
        try:
            _set(tree, path, rng.choice(confusions(rng)))
        except (KeyError, IndexError, TypeError):  # a parent replaced earlier
            pass
    return _dumps(tree)


def _every_field(rng: random.Random, data: dict[str, Any]) -> bytes:
    """Every top-level field replaced by the same list/object/null/bool/huge string."""
    value = rng.choice([[], {}, None, True, False, "x" * 10_000, [{}], 0])
    return _dumps({key: value for key in data})


def _drop_field(rng: random.Random, data: dict[str, Any]) -> bytes:
    tree = copy.deepcopy(data)
    found = paths(tree)
    if found:
        _delete(tree, rng.choice(found))
    return _dumps(tree)


def _add_field(rng: random.Random, data: dict[str, Any]) -> bytes:
    tree = copy.deepcopy(data)
    tree[rng.choice(("__proto__", "constructor", "x" * 300, "", "id ", "\u00e9"))] = rng.choice(confusions(rng))
    return _dumps(tree)


def _reencoded(rng: random.Random, data: dict[str, Any]) -> bytes:
    """Same content, other valid encodings: compact, indented, non-ASCII raw, ``\\/`` escaped."""
    style = rng.randrange(4)
    if style == 0:
        return json.dumps(data, separators=(",", ":")).encode()
    if style == 1:
        return json.dumps(data, indent=rng.choice((1, 2, 4))).encode()
    if style == 2:
        return json.dumps(data, ensure_ascii=False).encode()
    return json.dumps(data, separators=(",", ":")).replace("/", "\\/").encode()


def _duplicate_keys(rng: random.Random, data: dict[str, Any]) -> bytes:
    key = rng.choice(list(data) or ["id"])
    head = json.dumps({key: rng.choice(confusions(rng))})[:-1]
    rest = json.dumps(data)[1:]
    return f"{head}, {rest}".encode() if rest != "}" else f"{head}}}".encode()


def _deep(rng: random.Random, data: dict[str, Any]) -> bytes:
    depth = rng.choice((65, 1000, DEEP))
    opener, closer = rng.choice((("[", "]"), ('{"a":', "}")))
    if opener == "[" and rng.random() < 0.3:  # the whole body
        return (opener * depth + closer * depth).encode()
    inner = opener * depth + ("1" if opener != "[" else "") + closer * depth
    return _raw_at(rng, data, inner)


def _deep_unclosed(rng: random.Random, data: dict[str, Any]) -> bytes:
    return ("[" * DEEP).encode() if rng.random() < 0.5 else ('{"a":' * DEEP).encode()


def _huge_number(rng: random.Random, data: dict[str, Any]) -> bytes:
    digits = "".join(rng.choice("0123456789") for _ in range(HUGE_DIGITS)).lstrip("0") or "1"
    raw = rng.choice((digits, "-" + digits, digits + ".5", "1e" + digits, "0." + digits))
    return _raw_at(rng, data, raw) if rng.random() < 0.85 else raw.encode()


def _lone_surrogate(rng: random.Random, data: dict[str, Any]) -> bytes:
    escape = rng.choice(("\\ud800", "\\udfff", "\\ud83d", "\\udc00\\ud800"))
    if rng.random() < 0.25:
        return b'{"id":"' + escape.encode() + b'"}'
    if rng.random() < 0.3:  # as a key
        tree = json.dumps(data)
        return (tree[:-1] + f', "{escape}": 1}}').encode() if tree != "{}" else f'{{"{escape}": 1}}'.encode()
    return _raw_at(rng, data, f'"x{escape}y"')


def _invalid_utf8(rng: random.Random, data: dict[str, Any]) -> bytes:
    """A string holding bytes that are not UTF-8 (a stray continuation byte, an encoded surrogate...)."""
    body = _raw_at(rng, data, '"RAW-BYTES"')
    bad = rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xe9"))
    return body.replace(b"RAW-BYTES", b"x" + bad + b"y", 1)


def _truncate(rng: random.Random, data: dict[str, Any]) -> bytes:
    body = _dumps(data)
    return body[: rng.randrange(len(body))] if body else body


def _flip(rng: random.Random, data: dict[str, Any]) -> bytes:
    body = bytearray(_dumps(data))
    for _ in range(rng.choice((1, 1, 2, 8))):
        if body:
            body[rng.randrange(len(body))] = rng.randrange(256)
    return bytes(body)


def _random_bytes(rng: random.Random, data: dict[str, Any]) -> bytes:
    return rng.randbytes(rng.choice((0, 1, 16, 1024, 65_536)))


def _not_an_object(rng: random.Random, data: dict[str, Any]) -> bytes:
    return rng.choice(
        (b"[]", b"null", b"true", b"0", b'"x"', b"[{}]", json.dumps([data]).encode(), b"", b" ", b"{}", b"{", b"}")
    )


def _framing(rng: random.Random, data: dict[str, Any]) -> bytes:
    body = _dumps(data)
    choice = rng.randrange(6)
    if choice == 0:
        return b"\xef\xbb\xbf" + body  # UTF-8 BOM
    if choice == 1:
        return body + b" trailing"
    if choice == 2:
        return body + b"\x00"
    if choice == 3:
        return json.dumps(data).encode("utf-16")
    if choice == 4:
        return b"\n\t " + body + b"\n"  # whitespace around: still valid JSON
    return body + body


def _oversized(rng: random.Random, data: dict[str, Any]) -> bytes:
    tree = copy.deepcopy(data)
    tree["padding"] = "x" * (1_048_576 + rng.randrange(1, 4096))
    return _dumps(tree)


def _sample(rng: random.Random, data: dict[str, Any]) -> bytes:
    return _dumps(data)


# family -> (weight, mutator)
FAMILIES: dict[str, tuple[int, Callable[[random.Random, dict[str, Any]], bytes]]] = {
    "sample": (6, _sample),
    "reencoded": (4, _reencoded),
    "type-confusion": (14, _type_confusion),
    "every-field": (5, _every_field),
    "drop-field": (6, _drop_field),
    "add-field": (4, _add_field),
    "duplicate-keys": (3, _duplicate_keys),
    "deep-nesting": (5, _deep),
    "deep-unclosed": (2, _deep_unclosed),
    "huge-number": (5, _huge_number),
    "lone-surrogate": (5, _lone_surrogate),
    "invalid-utf8": (3, _invalid_utf8),
    "truncated": (6, _truncate),
    "byte-flip": (6, _flip),
    "random-bytes": (4, _random_bytes),
    "not-an-object": (4, _not_an_object),
    "framing": (4, _framing),
    "oversized": (1, _oversized),
}
_NAMES = list(FAMILIES)
_WEIGHTS = [FAMILIES[n][0] for n in _NAMES]


def mutate(rng: random.Random, data: dict[str, Any], family: str | None = None) -> tuple[str, bytes]:
    name = family or rng.choices(_NAMES, _WEIGHTS)[0]
    return name, FAMILIES[name][1](rng, data)
