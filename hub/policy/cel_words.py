"""The CEL runtime's errors in plain words, for ``refund-hub policy check``, the console's editor
and a decision's rule list.

The runtime speaks of overload ids and status codes (``found no matching overload for '_>_'
applied to '(double, int)'``, ``UNKNOWN: No matching overloads found : _>_(int64, string)``);
a merchant reads ``'>' cannot compare a double with an int`` and what to write instead. A message
this module does not know is passed on without its status code and source excerpt.
"""

from __future__ import annotations

import re

VARIABLES = ("request", "history", "facts", "now")
_OPERATORS = {
    "_>_": "'>'",
    "_>=_": "'>='",
    "_<_": "'<'",
    "_<=_": "'<='",
    "_==_": "'=='",
    "_!=_": "'!='",
    "_+_": "'+'",
    "_-_": "'-'",
    "_*_": "'*'",
    "_/_": "'/'",
    "_%_": "'%'",
    "-_": "'-'",
    "!_": "'!'",
    "_&&_": "'&&'",
    "_||_": "'||'",
    "_?_:_": "'? :'",
    "_[_]": "'[]'",
    "@in": "'in'",
}
_COMPARISONS = frozenset({"_>_", "_>=_", "_<_", "_<=_", "_==_", "_!=_"})
_TYPES = {
    "int": "an int",
    "int64": "an int",
    "uint": "a uint",
    "uint64": "a uint",
    "double": "a double",
    "string": "a string",
    "bool": "a bool",
    "bytes": "bytes",
    "null_type": "null",
    "null": "null",
    "list": "a list",
    "map": "a map",
    "timestamp": "a timestamp",
    "google.protobuf.Timestamp": "a timestamp",
    "duration": "a duration",
    "google.protobuf.Duration": "a duration",
    "dyn": "a field value",
    "type": "a type",
}
_NUMBERS = frozenset({"an int", "a uint", "a double"})
_WHERE = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*)")
_STATUS = re.compile(r"^[A-Z_]+: ")
_COMPILE_OVERLOAD = re.compile(r"found no matching overload for '([^']+)' applied to '\((.*)\)'")
_RUNTIME_OVERLOAD = re.compile(r"No matching overloads? found\s*:\s*([^(\s]+)\((.*)\)")
_UNDECLARED = re.compile(r"undeclared reference to '([^']+)'")
_KEY = re.compile(r'Key not found in map\s*:\s*"?([^"]*)"?')
_INDEX = re.compile(r"[Ii]ndex error: index=(-?\d+) size=(\d+)")
_CONVERT = re.compile(r"cannot convert (\w+) to (\w+)", re.IGNORECASE)
_MISMATCHED = re.compile(r"mismatched input '(.*?)' expecting")
_EXTRANEOUS = re.compile(r"extraneous input '(.*?)' expecting")
_TOKEN = re.compile(r"token recognition error at: '(.*)'$")
_MISSING = re.compile(r"missing '(.+?)' at")
_NO_VIABLE = re.compile(r"no viable alternative at input '(.*?)'")
_NOT_CEL = {"=": ": compare with ==", "&": ": write && for and", "|": ": write || for or"}


def type_name(name: str) -> str:
    """``int64`` → ``an int``; a list or map with its element types is just a list or a map."""
    base = name.strip().split("(", 1)[0].split("<", 1)[0].strip()
    return _TYPES.get(base, _TYPES.get(base.lower(), base.lower()))


def _types(text: str) -> list[str]:
    """The argument types of an overload message, split at top-level commas."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "(<":
            depth += 1
        elif char in ")>":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return [type_name(part) for part in parts]


def _no_overload(function: str, arguments: str) -> str:
    kinds = _types(arguments)
    operator = _OPERATORS.get(function)
    if operator is None:
        listed = " and ".join(kinds)
        return f"{function}() cannot be applied to {listed}" if listed else f"{function}() needs arguments"
    if len(kinds) == 1:
        return f"{operator} cannot be applied to {kinds[0]}"
    left, right = kinds[0], kinds[-1]
    verb = "compare" if function in _COMPARISONS else "combine"
    words = f"{operator} cannot {verb} {left} with {right}"
    if left in _NUMBERS and right in _NUMBERS:
        why = "CEL never mixes int, uint and double in arithmetic" if verb == "combine" else "CEL checks the types"
        return (
            f"{words}: {why}; write both numbers in one type (2, 2u, 2.0) "
            "or convert with int(...), uint(...) or double(...)"
        )
    if "a timestamp" in (left, right) or "a duration" in (left, right):
        if verb == "compare":
            return f"{words}: compare a timestamp with a timestamp, a duration with a duration, e.g. duration('72h')"
        return f"{words}: add or subtract a duration, e.g. duration('24h')"
    if "null" in (left, right):
        return f"{words}: an unknown value is absent, not null; guard it with has(...)"
    return words


def _undeclared(name: str, line: str, column: int) -> str:
    first = name.split(".", 1)[0]
    rest = line[column:]
    if first in VARIABLES:  # a function on a value: request.amount.foo()
        first = name.rsplit(".", 1)[-1]
    if rest.lstrip().startswith("("):
        return f"undeclared reference to '{first}': CEL has no function of that name (docs/policy.md lists them)"
    return f"undeclared reference to '{first}': a rule can read request, history, facts and now"


def _syntax(problem: str) -> str:
    missing = _MISSING.search(problem)
    if missing:
        return f"a {missing.group(1)!r} is missing"
    token = _TOKEN.search(problem)
    if token:
        text = token.group(1).strip()
        if text[:1] in ("'", '"'):
            return "a quoted string is not closed"
        hint = _NOT_CEL.get(text, "")
        return f"{text!r} is not CEL{hint}"
    if "'<EOF>'" in problem:
        return "the expression ends too early"
    unexpected = _MISMATCHED.search(problem) or _EXTRANEOUS.search(problem) or _NO_VIABLE.search(problem)
    if unexpected:
        return f"unexpected {unexpected.group(1)!r}"
    return problem.split(" expecting", 1)[0]


def compile_problem(message: str, text: str) -> tuple[str, tuple[str, int] | None]:
    """A parser or type-checker error as plain words with the column it points at, and the line
    of ``text`` it is on with that (0-based) column."""
    match = _WHERE.search(message)
    if match is None:
        words = message.strip().splitlines()[0] if message.strip() else "the rule does not compile"
        return _STATUS.sub("", words), None
    lines = text.splitlines() or [""]
    line = lines[min(max(int(match.group(1)) - 1, 0), len(lines) - 1)]
    column = max(int(match.group(2)) - 1, 0)  # the runtime counts columns from 1
    return _compile_words(match.group(3).strip(), line, column), (line, column)


def _compile_words(problem: str, line: str, column: int) -> str:
    at = f" (column {column + 1})"
    if problem.startswith("Syntax error:"):
        return f"not a valid CEL expression: {_syntax(problem[len('Syntax error:') :].strip())}{at}"
    overload = _COMPILE_OVERLOAD.search(problem)
    if overload:
        return _no_overload(overload.group(1), overload.group(2)) + at
    undeclared = _UNDECLARED.search(problem)
    if undeclared:
        return _undeclared(undeclared.group(1), line, column) + at
    if "has() argument must be a field selection" in problem:
        return "has() takes a field, e.g. has(request.order.delivered_at)" + at
    return problem.split(" (in container", 1)[0] + at


def evaluation_problem(message: str) -> str:
    """An error while a rule ran, as plain words."""
    text = _STATUS.sub("", message.strip().splitlines()[0] if message.strip() else "the rule failed")
    overload = _RUNTIME_OVERLOAD.search(text)
    if overload:
        return _no_overload(overload.group(1), overload.group(2))
    key = _KEY.search(text)
    if key:
        return (
            f"no such member '{key.group(1)}': the field does not exist or is unknown for this request "
            "(guard optional fields with has(...))"
        )
    index = _INDEX.search(text)
    if index:
        return f"index {index.group(1)} is outside a list of {index.group(2)}"
    if "divide by zero" in text or "division by zero" in text:
        return "division by zero"
    if "modulus by zero" in text or "modulo by zero" in text:
        return "remainder of a division by zero"
    if "overflow" in text:
        return "a number went outside CEL's 64-bit range (integer overflow)"
    if "Timestamp conversion failed" in text:
        return "the text is not a timestamp: write e.g. timestamp('2024-01-31T00:00:00Z')"
    if "Duration conversion failed" in text:
        return "the text is not a duration: write e.g. duration('72h')"
    conversion = _CONVERT.search(text)
    if conversion:
        return f"cannot convert {type_name(conversion.group(1))} to {type_name(conversion.group(2))}"
    return text
