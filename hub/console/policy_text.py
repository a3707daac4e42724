"""A policy text checked for the editor: the parser's first problem, said in plain words and
placed at the line of the TOML text it is about.

The parser (``hub.policy``) names a key path (``windows.digital.days``, ``rules[2].when``); the
editor needs a line. ``key_lines`` maps every table header and key of the text to its line, and
a problem goes to the line of the longest part of its path found there (an item of an inline
table or list sits on its key's line). TOML syntax errors carry their line already.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.ledger.policies import policy_of_text
from hub.policy.errors import PolicyError

if TYPE_CHECKING:
    from hub.policy import Policy

HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")
AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
INDEX = re.compile(r"\[(\d+)\]$")
INDEXES = re.compile(r"\[(\d+)\]")
CONTEXT = 2  # lines shown around the problem
PHRASES = (
    (re.compile(r"must be >= (\S+)"), r"must be \1 or more"),
    (re.compile(r"must be <= (\S+)"), r"must be at most \1"),
    (re.compile(r"must be > (\S+)"), r"must be more than \1"),
    (re.compile(r"^unknown key"), "is not a setting the policy knows"),
    (re.compile(r"^is required"), "is missing and required"),
)


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: ``line`` is 1-based (None: the policy as a whole)."""

    message: str
    line: int | None
    column: int | None
    excerpt: tuple[tuple[int, str], ...]

    @property
    def where(self) -> str:
        if self.line is None:
            return "The policy"
        return f"Line {self.line}" + (f", column {self.column}" if self.column else "")


@dataclass(frozen=True)
class Checked:
    """A valid policy, or the first problem with it."""

    policy: Policy | None
    problem: Problem | None


def check(text: str) -> Checked:
    try:
        return Checked(policy_of_text(text), None)
    except PolicyError as exc:
        return Checked(None, problem_of(text, exc))


def _dotted(raw: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in raw.split("."))


def key_lines(text: str) -> dict[str, int]:
    """Every header and key of the text → its first line; arrays of tables numbered as the
    parser numbers them (``rules[0]``, ``rules[1]``)."""
    found: dict[str, int] = {}
    table = ""
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        header = HEADER.match(line)
        if header:
            name = _dotted(header.group(2))
            if header.group(1) == "[[":
                seen[name] = seen.get(name, -1) + 1
                name = f"{name}[{seen[name]}]"
            table = name
            found.setdefault(table, number)
            continue
        key = KEY.match(line)
        if key:
            path = _dotted(key.group(1))
            found.setdefault(f"{table}.{path}" if table else path, number)
    return found


def _line_of(text: str, key: str) -> int | None:
    lines = key_lines(text)
    path = key
    while path:
        if path in lines:
            return lines[path]
        index = INDEX.search(path)
        if index:
            path = path[: index.start()]
        elif "." in path:
            path = path.rsplit(".", 1)[0]
        else:
            return None
    return None


def _words(key: str, problem: str) -> str:
    for pattern, replacement in PHRASES:
        problem = pattern.sub(replacement, problem)
    if key == "policy":
        return problem[0].upper() + problem[1:] if problem else problem
    table, _, name = key.rpartition(".")
    table = INDEXES.sub(lambda m: f" #{int(m.group(1)) + 1}", table)  # rules[0] → rules #1
    label = f"{name} in [{table}]" if table else name
    return f"{label} {problem}" if problem.startswith(("must", "is ")) else f"{label}: {problem}"


def problem_of(text: str, exc: PolicyError) -> Problem:
    problem = str(exc.problem)
    line: int | None
    column: int | None = None
    at = AT_LINE.search(problem)
    if at:  # TOML syntax: tomllib says where
        line, column = int(at.group(1)), int(at.group(2))
        problem = "this is not valid TOML: " + problem[: at.start()].removeprefix("not valid TOML: ")
    else:
        line = _line_of(text, exc.key)
    return Problem(_words(exc.key, problem), line, column, _excerpt(text, line))


def _excerpt(text: str, line: int | None) -> tuple[tuple[int, str], ...]:
    if line is None:
        return ()
    lines = text.splitlines()
    start, end = max(1, line - CONTEXT), min(len(lines), line + CONTEXT)
    return tuple((n, lines[n - 1]) for n in range(start, end + 1))
