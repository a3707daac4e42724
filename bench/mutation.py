"""Mutation testing of the money-critical modules: does a wrong line fail a test?

    .venv/bin/python bench/mutation.py [--module PATH ...] [--list] [--jobs N] [--no-postgres]
                                       [--show-equivalent] [--json FILE] [--recheck FILE]

Each module of ``MODULES`` is mutated one small change at a time — a flipped comparison, an
arithmetic operator swapped, a constant off by one, a string or boolean changed, an entry dropped
from a table (dict, set, tuple), a keyword argument dropped, a ``raise`` or a bare call removed, a
``return`` that returns None — and the test files mapped to it are run against each mutant with
``pytest -x``. A mutant a test fails on is *killed*; one every test passes is a *survivor*.

Nothing is edited in place: other people run tests in this working tree. The tree (hub,
connectors, gateways, tests, setup.cfg) is copied once per job into a temporary directory, the
mutant is written into that copy, and pytest runs there with the copy first on ``PYTHONPATH`` (the
editable install's finder comes after the path finder, so the copy's packages win). Before the
mutants, the mapped tests run once on the unmutated copy: they must pass, their time sets the
per-mutant timeout, and a line tracer records which lines of the module they execute — a mutant on
a line no mapped test executes is a survivor without a run.

Mutants known to change no behaviour are listed, with the reason, in ``mutation_equivalent.txt``
beside this script (matched on module, function and mutation, not on the line number, so the list
survives edits above them); they are reported apart and left out of the score:
score = killed / (mutants - equivalent).

``--recheck FILE`` runs again only the mutants an earlier ``--json`` run left alive (survived or
uncovered) and keeps that run's kills: for the round after tests were *added* for its survivors. A
module whose mutants are not the same list as in that run (its source changed) runs in full.

Exit status 0 when every module run reaches ``--threshold`` (default 90 %), 1 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = Path(__file__).resolve().parent / "mutation_equivalent.txt"

# module → the tests that pin it down, the most targeted first (``pytest -x`` stops at the first
# failure, so a killed mutant costs the time to reach the first test that catches it)
MODULES: dict[str, list[str]] = {
    "hub/models/money.py": [
        "tests/models/test_models_money.py",
    ],
    "hub/models/request.py": [
        "tests/models/test_models_request.py",
    ],
    "hub/models/events.py": [
        "tests/models/test_models_request.py",
    ],
    "hub/models/json_schema.py": [
        "tests/models/test_models_request.py",
    ],
    "hub/ledger/states.py": [
        "tests/ledger/test_ledger_states.py",
    ],
    "hub/ledger/payments.py": [
        "tests/ledger/test_ledger_payments.py",
    ],
    "hub/ledger/refunds.py": [
        "tests/ledger/test_ledger_refunds.py",
        "tests/ledger/test_ledger_payments.py",
        "tests/ledger/test_ledger_claims.py",
        "tests/ledger/test_ledger_tenders.py",
    ],
    "hub/ledger/claims.py": [
        "tests/ledger/test_ledger_claims.py",
    ],
    "hub/ledger/tenders.py": [
        "tests/ledger/test_ledger_tenders_mutants.py",
        "tests/ledger/test_ledger_tenders.py",
        "tests/hub/test_hub_split_tenders.py",
        "tests/hub/test_hub_settle_mutants.py",  # the parts' roll-up, a retry, an acceptance
        "tests/connectors/shopify/test_shopify_tenders.py",
        "tests/connectors/woocommerce/test_woocommerce_tenders.py",
        "tests/connectors/magento/test_magento_tenders.py",
    ],
    "hub/pipeline/execute.py": [
        "tests/hub/test_hub_execute_mutants.py",
        "tests/hub/test_hub_execute_settle.py",
        "tests/hub/test_hub_money_paths.py",
        "tests/hub/test_hub_pipeline.py",
        "tests/hub/test_hub_crash_and_races.py",
        "tests/hub/test_hub_split_tenders.py",
        "tests/hub/test_hub_disputes.py",  # take() steps aside while a dispute holds the refund
    ],
    "hub/pipeline/settle.py": [
        "tests/hub/test_hub_settle_mutants.py",
        "tests/hub/test_hub_execute_settle.py",
        "tests/hub/test_hub_money_paths.py",
        "tests/hub/test_hub_pipeline.py",
        "tests/hub/test_hub_crash_and_races.py",
        "tests/hub/test_hub_split_tenders.py",
    ],
    "hub/policy/amounts.py": [
        "tests/policy/test_policy_mutation_amounts.py",
        "tests/policy/test_policy_rules.py",
        "tests/policy/test_policy_decision.py",
    ],
    "hub/policy/lines.py": [  # per-line eligibility: exclusions, each kind's window, digital-goods use
        "tests/policy/test_policy_mutation_lines.py",
        "tests/policy/test_policy_digital.py",
        "tests/policy/test_policy_unknowns.py",
        "tests/policy/test_policy_mutation_windows.py",
        "tests/policy/test_policy_windows.py",
        "tests/policy/test_policy_rules.py",
        "tests/policy/test_policy_decision.py",
    ],
    "hub/policy/windows.py": [
        "tests/policy/test_policy_mutation_windows.py",
        "tests/policy/test_policy_windows.py",
    ],
    "gateways/stripe/transformers.py": [
        "tests/gateways/stripe/test_stripe_money_table.py",
        "tests/gateways/stripe/test_stripe_currency.py",
        "tests/gateways/stripe/test_stripe_responses.py",
        "tests/gateways/stripe/test_stripe_refunds.py",
    ],
    "gateways/stripe/errors.py": [
        "tests/gateways/stripe/test_stripe_errors_table.py",
        "tests/gateways/stripe/test_stripe_money_table.py",
        "tests/gateways/stripe/test_stripe_faults.py",
        "tests/gateways/stripe/test_stripe_refunds.py",
    ],
    "gateways/paypal/money.py": [
        "tests/gateways/paypal/test_paypal_money_table.py",
        "tests/gateways/paypal/test_paypal_money.py",
    ],
    "gateways/paypal/transformers.py": [
        "tests/gateways/paypal/test_paypal_transformers_table.py",
        "tests/gateways/paypal/test_paypal_money_table.py",
        "tests/gateways/paypal/test_paypal_transformers.py",
        "tests/gateways/paypal/test_paypal_responses.py",
        "tests/gateways/paypal/test_paypal_refunds.py",
    ],
    "gateways/paypal/errors.py": [
        "tests/gateways/paypal/test_paypal_errors_table.py",
        "tests/gateways/paypal/test_paypal_money_table.py",
        "tests/gateways/paypal/test_paypal_errors.py",
        "tests/gateways/paypal/test_paypal_faults.py",
    ],
    "gateways/square/transformers.py": [
        "tests/gateways/square/test_square_transformers_table.py",
        "tests/gateways/square/test_square_money_table.py",
        "tests/gateways/square/test_square_transformers.py",
        "tests/gateways/square/test_square_responses.py",
        "tests/gateways/square/test_square_refunds.py",
    ],
    "gateways/square/errors.py": [
        "tests/gateways/square/test_square_errors_table.py",
        "tests/gateways/square/test_square_money_table.py",
        "tests/gateways/square/test_square_errors.py",
        "tests/gateways/square/test_square_faults.py",
    ],
}

COPIED = ("hub", "connectors", "gateways", "tests", "setup.cfg", "pyproject.toml")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db", "*.db-*", ".pytest_cache", "mutants")
TRACER = "_mutation_trace"
TRACER_SOURCE = '''
"""pytest plugin: record the lines of one file that the tests execute (bench/mutation.py)."""
import json, os, sys, threading

_TARGET = os.path.realpath(os.environ["MUTATION_TARGET"])
_LINES = set()


def _local(frame, event, arg):
    if event == "line":
        _LINES.add(frame.f_lineno)
    return _local


_SEEN = {}


def _global(frame, event, arg):
    name = frame.f_code.co_filename
    hit = _SEEN.get(name)
    if hit is None:
        hit = _SEEN[name] = os.path.realpath(name) == _TARGET
    if hit:
        _LINES.add(frame.f_lineno)
        return _local
    return None


def pytest_configure(config):
    sys.settrace(_global)
    threading.settrace(_global)


def pytest_unconfigure(config):
    sys.settrace(None)
    imported = any(
        os.path.realpath(getattr(m, "__file__", None) or "") == _TARGET for m in list(sys.modules.values())
    )
    if imported:
        _LINES.add(0)  # 0: the module ran (perhaps from a conftest, before this tracer started)
    with open(os.environ["MUTATION_LINES"], "w") as out:
        json.dump(sorted(_LINES), out)
'''


# ── mutants ──────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Mutant:
    path: str  # module path relative to the repository root
    line: int
    end_line: int
    start: int  # byte offsets of the replaced text in the module's source
    end: int
    replacement: bytes
    function: str  # qualified name of the enclosing function or class, "<module>" at top level
    description: str  # what changed, stable across edits elsewhere in the file
    statement: tuple[int, int] = (0, 0)  # lines of the innermost statement around the change
    in_function: bool = True  # False for module- and class-level code (decorators and defaults too)

    def covered_by(self, lines: set[int]) -> bool:
        """Whether a run that executed ``lines`` reached the change: a constant folded into one
        instruction (a multi-line tuple of strings) reports only its statement's first line."""
        if not self.in_function and 0 in lines:
            return True  # module and class bodies run on import, which a conftest may do before tracing
        first, last = self.statement if self.statement != (0, 0) else (self.line, self.end_line)
        return any(first <= n <= last for n in lines)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.function, self.description)

    def apply(self, source: bytes) -> bytes:
        return source[: self.start] + self.replacement + source[self.end :]


COMPARE_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
BINOP_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
}
# calls whose string arguments are messages for people (no test should pin their wording)
MESSAGE_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
TEXT_KEYWORDS = {"description", "help", "title", "examples"}


def _short(node: ast.AST, limit: int = 90) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Collector(ast.NodeVisitor):
    """Walk a module and yield one candidate mutation per node and operator."""

    def __init__(self, path: str, source: bytes) -> None:
        self.path = path
        self.source = source
        self.line_starts = [0]
        for line in source.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.scope: list[str] = []
        self.skip: set[int] = set()  # ids of nodes not to mutate (docstrings, messages, annotations)
        self.module_level_value = 0  # > 0 while inside the value of a module- or class-level assignment
        self.function_depth = 0
        self.statements: list[tuple[int, int]] = []
        self.mutants: list[Mutant] = []
        self.seen: dict[tuple[str, str, str], int] = {}

    def visit(self, node: ast.AST) -> Any:
        if not isinstance(node, ast.stmt):
            return super().visit(node)
        self.statements.append((node.lineno, node.end_lineno or node.lineno))
        try:
            return super().visit(node)
        finally:
            self.statements.pop()

    # bookkeeping
    def _offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col

    def _add(self, node: ast.AST, replacement: str, description: str, *, statement: bool = False) -> None:
        start = self._offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self._offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        text = replacement if statement else f"({replacement})"
        function = ".".join(self.scope) or "<module>"
        key = (self.path, function, description)
        n = self.seen.get(key, 0) + 1
        self.seen[key] = n
        if n > 1:
            description = f"{description} [#{n}]"
        self.mutants.append(
            Mutant(
                self.path,
                node.lineno,  # type: ignore[attr-defined]
                node.end_lineno or node.lineno,  # type: ignore[attr-defined]
                start,
                end,
                text.encode(),
                function,
                description,
                self.statements[-1] if self.statements else (0, 0),
                self.function_depth > 0,
            )
        )

    def _mutated(self, node: ast.AST, change: Callable[[Any], None]) -> Any:
        twin = copy.deepcopy(node)
        change(twin)
        return twin

    def _without(self, node: ast.AST, i: int, *fields: str) -> Any:
        """A copy of ``node`` with item ``i`` of each list field removed."""
        twin = copy.deepcopy(node)
        for name in fields:
            getattr(twin, name).pop(i)
        return twin

    def _skip_tree(self, node: ast.AST | None) -> None:
        if node is not None:
            self.skip.update(id(n) for n in ast.walk(node))

    # scopes, and what is never mutated
    def _docstring(self, body: list[ast.stmt]) -> None:
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            self._skip_tree(body[0])

    def visit_Module(self, node: ast.Module) -> None:
        self._docstring(node.body)
        self.generic_visit(node)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._docstring(node.body)
        self._skip_tree(node.returns)
        for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs, node.args.vararg, node.args.kwarg]:
            if arg is not None:
                self._skip_tree(arg.annotation)
        self.scope.append(node.name)
        self.function_depth += 1
        saved, self.module_level_value = self.module_level_value, 0
        self.generic_visit(node)
        self.module_level_value = saved
        self.function_depth -= 1
        self.scope.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._docstring(node.body)
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._skip_tree(node.annotation)
        self._table_value(node, node.value)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return
        self._table_value(node, node.value)

    def _table_value(self, node: ast.AST, value: ast.AST | None) -> None:
        top = self.function_depth == 0  # a table: a module- or class-level value
        if top:
            self.module_level_value += 1
        self.generic_visit(node)
        if top:
            self.module_level_value -= 1

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
            return
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self._skip_tree(node)  # f-strings: messages, and 3.11 gives their parts no reliable positions

    def visit_Raise(self, node: ast.Raise) -> None:
        if node.exc is not None and id(node) not in self.skip:
            self._add(node, "pass", f"remove `{_short(node)}`", statement=True)
        if isinstance(node.exc, ast.Call):  # the exception's message is for people
            for arg in node.exc.args:
                self._skip_tree(arg)
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if id(node) in self.skip:
            return
        if isinstance(node.value, ast.Call):
            call = node.value
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            if name in MESSAGE_CALLS:
                self._skip_tree(node)
                return
            self._add(node, "pass", f"remove call `{_short(node)}`", statement=True)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        value = node.value
        if value is not None and not (isinstance(value, ast.Constant) and value.value is None):
            self._add(node, "return None", f"`{_short(node)}` → `return None`", statement=True)
        self.generic_visit(node)

    # expressions
    def visit_Compare(self, node: ast.Compare) -> None:
        if id(node) not in self.skip:
            for i, op in enumerate(node.ops):
                swap = COMPARE_SWAP.get(type(op))
                if swap is None:
                    continue

                twin = copy.deepcopy(node)
                twin.ops[i] = swap()
                self._add(node, ast.unparse(twin), f"`{_short(node)}` → `{_short(twin)}`")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        swap = BINOP_SWAP.get(type(node.op))
        if swap is not None and id(node) not in self.skip:
            twin = self._mutated(node, lambda n: setattr(n, "op", swap()))
            self._add(node, ast.unparse(twin), f"`{_short(node)}` → `{_short(twin)}`")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        swap = BINOP_SWAP.get(type(node.op))
        if swap is not None and id(node) not in self.skip:
            twin = self._mutated(node, lambda n: setattr(n, "op", swap()))
            self._add(node, ast.unparse(twin), f"`{_short(node)}` → `{_short(twin)}`", statement=True)
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        if id(node) not in self.skip:
            other = ast.Or if isinstance(node.op, ast.And) else ast.And
            twin = self._mutated(node, lambda n: setattr(n, "op", other()))
            self._add(node, ast.unparse(twin), f"`{_short(node)}` → `{_short(twin)}`")
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not | ast.USub) and id(node) not in self.skip:
            self._add(node, ast.unparse(node.operand), f"`{_short(node)}` → `{_short(node.operand)}`")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if id(node) in self.skip:
            return
        value = node.value
        if isinstance(value, bool):
            self._add(node, repr(not value), f"`{value!r}` → `{not value!r}`")
        elif isinstance(value, int):
            self._add(node, repr(value + 1), f"`{value!r}` → `{value + 1!r}`")
        elif isinstance(value, float):
            self._add(node, repr(value + 1.0), f"`{value!r}` → `{value + 1.0!r}`")
        elif isinstance(value, str):
            mutated = f"XX{value}XX"
            self._add(node, repr(mutated), f"`{_short(node)}` → `{mutated!r}`")

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in MESSAGE_CALLS:
            self._skip_tree(node)
            return
        for keyword in node.keywords:
            if keyword.arg in TEXT_KEYWORDS:
                self._skip_tree(keyword.value)
        if id(node) not in self.skip:
            for i, keyword in enumerate(node.keywords):
                if keyword.arg is None or keyword.arg in TEXT_KEYWORDS:
                    continue
                twin = self._without(node, i, "keywords")
                self._add(node, ast.unparse(twin), f"drop keyword `{_short(keyword, 60)}` of `{_short(node.func)}()`")
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        if id(node) not in self.skip and len(node.keys) > 0:
            for i, key in enumerate(node.keys):
                if key is None:
                    continue

                twin = self._without(node, i, "keys", "values")
                self._add(node, ast.unparse(twin), f"drop entry `{_short(key, 50)}: {_short(node.values[i], 50)}`")
        self.generic_visit(node)

    def visit_Set(self, node: ast.Set) -> None:
        if id(node) not in self.skip:
            for i, element in enumerate(node.elts):
                twin = self._without(node, i, "elts")
                text = ast.unparse(twin) if twin.elts else "set()"
                self._add(node, text, f"drop `{_short(element, 60)}` from set `{_short(node, 60)}`")
        self.generic_visit(node)

    def _sequence(self, node: ast.Tuple | ast.List) -> None:
        if id(node) not in self.skip and isinstance(node.ctx, ast.Load) and self.module_level_value > 0:
            for i, element in enumerate(node.elts):
                if isinstance(element, ast.Starred):
                    continue
                twin = self._without(node, i, "elts")
                text = ast.unparse(twin)
                if isinstance(node, ast.Tuple) and len(twin.elts) == 1:
                    text = f"({ast.unparse(twin.elts[0])},)"
                self._add(node, text, f"drop `{_short(element, 60)}` from `{_short(node, 60)}`")
        self.generic_visit(node)

    visit_Tuple = _sequence
    visit_List = _sequence


def mutants_of(path: str) -> list[Mutant]:
    source = (ROOT / path).read_bytes()
    collector = _Collector(path, source)
    collector.visit(ast.parse(source))
    unique: dict[bytes, Mutant] = {}
    for mutant in collector.mutants:
        mutated = mutant.apply(source)
        if mutated == source or mutated in unique:
            continue
        try:
            compile(mutated, path, "exec")
        except SyntaxError:
            continue
        unique[mutated] = mutant
    return sorted(unique.values(), key=lambda m: (m.line, m.start, m.description))


# ── equivalent mutants ───────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Equivalent:
    path: str
    function: str
    description: str
    reason: str


def read_equivalents(path: Path = EQUIVALENT_FILE) -> dict[tuple[str, str, str], Equivalent]:
    """``module | function | mutation | reason`` per line; ``#`` starts a comment line."""
    found: dict[tuple[str, str, str], Equivalent] = {}
    if not path.exists():
        return found
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" | ")]
        if len(parts) != 4 or not parts[3]:
            raise SystemExit(f"{path}:{number}: expected 'module | function | mutation | reason'")
        entry = Equivalent(*parts)
        found[(entry.path, entry.function, entry.description)] = entry
    return found


# ── running ──────────────────────────────────────────────────────────────────────────────────────


@dataclass
class Result:
    mutant: Mutant
    status: str  # killed | survived | timeout | uncovered | equivalent
    seconds: float = 0.0
    detail: str = ""


@dataclass
class ModuleRun:
    path: str
    tests: list[str]
    results: list[Result] = field(default_factory=list)
    baseline_seconds: float = 0.0
    error: str = ""

    def count(self, *statuses: str) -> int:
        return sum(1 for r in self.results if r.status in statuses)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def killed(self) -> int:
        return self.count("killed", "timeout")

    @property
    def equivalent(self) -> int:
        return self.count("equivalent")

    @property
    def score(self) -> float:
        scored = self.total - self.equivalent
        return 100.0 * self.killed / scored if scored else 100.0

    @property
    def survivors(self) -> list[Result]:
        return [r for r in self.results if r.status in ("survived", "uncovered")]


class Workspace:
    """One temporary copy of the tree, used by one mutant at a time."""

    def __init__(self, base: Path, index: int) -> None:
        self.root = base / f"tree{index}"
        for name in COPIED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, self.root / name, ignore=IGNORED)
            elif source.exists():
                shutil.copy2(source, self.root / name)
        (self.root / f"{TRACER}.py").write_text(TRACER_SOURCE)
        self.stamp = int(time.time()) - 10_000_000  # fake mtimes: a mutant never reuses a stale .pyc

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(self.root), *filter(None, [env.get("PYTHONPATH")])])
        env["PYTHONHASHSEED"] = "0"
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # compile the copy once, not on every run
        env.pop("PYTEST_ADDOPTS", None)
        return env

    def write(self, path: str, content: bytes) -> None:
        target = self.root / path
        target.write_bytes(content)
        self.stamp += 1
        os.utime(target, (self.stamp, self.stamp))
        cache = target.parent / "__pycache__"
        if cache.is_dir():
            for pyc in cache.glob(f"{target.stem}.*.pyc"):
                pyc.unlink(missing_ok=True)


def postgres_listens(host: str = "127.0.0.1", port: int = 5432) -> bool:
    """The tests marked postgres need PostgreSQL on 127.0.0.1:5432 (``bash scripts/services.sh``)."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def pytest_command(tests: list[str], markers: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "--no-header",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        "-m",
        markers,
        *extra,
        *tests,
    ]


def run_pytest(ws: Workspace, command: list[str], timeout: float, env: dict[str, str] | None = None) -> tuple[str, str]:
    """('passed' | 'failed' | 'timeout', output tail)."""
    process = subprocess.Popen(
        command,
        cwd=ws.root,
        env=env or ws.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.communicate()
        return "timeout", ""
    text = out.decode(errors="replace")
    return ("passed" if process.returncode == 0 else "failed"), text[-3000:]


def baseline(ws: Workspace, run: ModuleRun, markers: str) -> set[int] | None:
    """Run the mapped tests on the unmutated copy with the line tracer; the lines it executed."""
    lines_file = ws.root / "_mutation_lines.json"
    env = ws.env()
    env["MUTATION_TARGET"] = str(ws.root / run.path)
    env["MUTATION_LINES"] = str(lines_file)
    status, output = run_pytest(ws, pytest_command(run.tests, markers, "-p", TRACER), timeout=1800, env=env)
    if status != "passed":
        run.error = f"the mapped tests do not pass on the unmutated tree ({status}):\n{output}"
        return None
    # the traced run is slower than a plain one: time a plain run for the timeout
    started = time.monotonic()
    status, output = run_pytest(ws, pytest_command(run.tests, markers), timeout=1800)
    run.baseline_seconds = time.monotonic() - started
    if status != "passed":
        run.error = f"the mapped tests do not pass on the unmutated tree ({status}):\n{output}"
        return None
    return set(json.loads(lines_file.read_text()))


def run_module(
    run: ModuleRun,
    workspaces: Queue[Workspace],
    jobs: int,
    markers: str,
    equivalents: dict[tuple[str, str, str], Equivalent],
    progress: Callable[[str], None],
    earlier: dict[tuple[str, str, str], dict[str, Any]] | None = None,
) -> None:
    missing = [t for t in run.tests if not (ROOT / t).exists()]
    if missing:
        progress(f"{run.path}: mapped test files missing, left out: {', '.join(missing)}")
        run.tests = [t for t in run.tests if t not in missing]
    if not run.tests:
        run.error = "none of the mapped test files exists"
        return
    mutants = mutants_of(run.path)
    ws = workspaces.get()
    try:
        covered = baseline(ws, run, markers)
    finally:
        workspaces.put(ws)
    if covered is None:
        return
    timeout = max(15.0, 3 * run.baseline_seconds + 10)
    source = (ROOT / run.path).read_bytes()
    progress(f"{run.path}: {len(mutants)} mutants, tests {run.baseline_seconds:.1f} s, timeout {timeout:.0f} s")
    kept = kept_kills(run.path, mutants, earlier, progress)
    lock = threading.Lock()
    done = [0]

    def one(mutant: Mutant) -> Result:
        if mutant.key in equivalents:
            result = Result(mutant, "equivalent", detail=equivalents[mutant.key].reason)
        elif mutant.key in kept:
            row = kept[mutant.key]
            result = Result(mutant, row["status"], row["seconds"], detail="killed in the earlier run")
        elif not mutant.covered_by(covered):
            result = Result(mutant, "uncovered", detail="no mapped test executes this line")
        else:
            ws = workspaces.get()
            started = time.monotonic()
            try:
                ws.write(run.path, mutant.apply(source))
                status, output = run_pytest(ws, pytest_command(run.tests, markers), timeout)
            finally:
                ws.write(run.path, source)
                workspaces.put(ws)
            seconds = time.monotonic() - started
            status = {"passed": "survived", "failed": "killed", "timeout": "timeout"}[status]
            result = Result(mutant, status, seconds)
        with lock:
            done[0] += 1
            if result.status in ("survived", "uncovered"):
                progress(f"  [{done[0]}/{len(mutants)}] survived {mutant.path}:{mutant.line} {mutant.description}")
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        run.results = list(pool.map(one, mutants))
    keys = {m.key for m in mutants}
    stale = [e for k, e in equivalents.items() if e.path == run.path and k not in keys]
    for entry in stale:
        progress(f"  note: equivalent entry matches no mutant any more: {entry.function} | {entry.description}")


def read_run(path: Path) -> dict[str, dict[tuple[str, str, str], dict[str, Any]]]:
    """An earlier ``--json`` file: module → (module, function, mutation) → its row."""
    runs: dict[str, dict[tuple[str, str, str], dict[str, Any]]] = {}
    for row in json.loads(path.read_text()):
        runs.setdefault(row["module"], {})[(row["module"], row["function"], row["mutation"])] = row
    return runs


def carried_kills(
    mutants: list[Mutant], earlier: dict[tuple[str, str, str], dict[str, Any]] | None
) -> dict[tuple[str, str, str], dict[str, Any]] | None:
    """The earlier run's kills of these mutants; None when its mutants were another list (the source changed)."""
    if earlier is None or {m.key for m in mutants} != set(earlier):
        return None
    return {key: row for key, row in earlier.items() if row["status"] in ("killed", "timeout")}


def kept_kills(
    path: str,
    mutants: list[Mutant],
    earlier: dict[tuple[str, str, str], dict[str, Any]] | None,
    progress: Callable[[str], None],
) -> dict[tuple[str, str, str], dict[str, Any]]:
    kept = carried_kills(mutants, earlier)
    if earlier is not None:
        if kept is None:
            progress(f"  {path} changed since the earlier run: every mutant runs")
        else:
            progress(f"  {len(kept)} kills kept from the earlier run, {len(mutants) - len(kept)} mutants run")
    return kept or {}


# ── report ───────────────────────────────────────────────────────────────────────────────────────


def report(runs: list[ModuleRun], show_equivalent: bool) -> str:
    out = ["", "| module | mutants | killed | survived | equivalent | score |", "|---|---:|---:|---:|---:|---:|"]
    for run in runs:
        if run.error:
            out.append(f"| {run.path} | – | – | – | – | error |")
            continue
        out.append(
            f"| {run.path} | {run.total} | {run.killed} | {len(run.survivors)} | {run.equivalent} | {run.score:.1f} % |"
        )
    for run in runs:
        if run.error:
            out += ["", f"{run.path}: {run.error}"]
            continue
        if run.survivors:
            out += ["", f"survivors in {run.path}:"]
            for r in run.survivors:
                why = " (no mapped test executes it)" if r.status == "uncovered" else ""
                out.append(f"  {r.mutant.path}:{r.mutant.line} [{r.mutant.function}] {r.mutant.description}{why}")
        if show_equivalent and run.equivalent:
            out += ["", f"equivalent in {run.path}:"]
            for r in run.results:
                if r.status == "equivalent":
                    out.append(f"  {r.mutant.path}:{r.mutant.line} {r.mutant.description} — {r.detail}")
    return "\n".join(out)


def rescore(path: Path, show_equivalent: bool, threshold: float) -> int:
    """The report of an earlier run, its survivors matched against the equivalents file again."""
    equivalents = read_equivalents()
    runs: dict[str, ModuleRun] = {}
    for r in json.loads(path.read_text()):
        mutant = Mutant(r["module"], r["line"], r["line"], 0, 0, b"", r["function"], r["mutation"])
        status, detail = r["status"], r["detail"]
        if status in ("survived", "uncovered") and mutant.key in equivalents:
            status, detail = "equivalent", equivalents[mutant.key].reason
        run = runs.setdefault(r["module"], ModuleRun(r["module"], MODULES.get(r["module"], [])))
        run.results.append(Result(mutant, status, r["seconds"], detail))
    print(report(list(runs.values()), show_equivalent))
    return 1 if any(run.score < threshold for run in runs.values()) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--module", action="append", help="a module path of the table (repeatable); default all")
    parser.add_argument("--list", action="store_true", help="print the module → tests table and mutant counts")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants run at once (default: cores)")
    parser.add_argument(
        "--no-postgres", action="store_true", help="skip the tests marked postgres (skipped anyway when none listens)"
    )
    parser.add_argument("--show-equivalent", action="store_true", help="list the equivalent mutants too")
    parser.add_argument("--threshold", type=float, default=90.0, help="score every module must reach (percent)")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    parser.add_argument(
        "--rescore", type=Path, help="print the report of a --json file again, with the equivalents file as it is now"
    )
    parser.add_argument(
        "--recheck", type=Path, help="run only the mutants this earlier --json run left alive, keep its kills"
    )
    args = parser.parse_args(argv)
    if args.rescore:
        return rescore(args.rescore, args.show_equivalent, args.threshold)

    earlier = read_run(args.recheck) if args.recheck else {}
    selected = args.module or [m for m in MODULES if m in earlier] or list(MODULES)
    unknown = [m for m in selected if m not in MODULES]
    if unknown:
        parser.error(f"not in the table: {', '.join(unknown)} (see --list)")
    if args.list:
        for path in selected:
            print(f"{path}  ({len(mutants_of(path))} mutants)")
            for test in MODULES[path]:
                print(f"    {test}{'' if (ROOT / test).exists() else '  (missing)'}")
        return 0

    postgres = not args.no_postgres and postgres_listens()
    markers = "not slow" if postgres else "not slow and not postgres"
    equivalents = read_equivalents()
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:6.0f} s] {message}", flush=True)

    with tempfile.TemporaryDirectory(prefix="refund-hub-mutation-") as tmp:
        progress(f"copying the tree into {args.jobs} workspace(s)")
        workspaces: Queue[Workspace] = Queue()
        for i in range(args.jobs):
            workspaces.put(Workspace(Path(tmp), i))
        runs = [ModuleRun(path, MODULES[path]) for path in selected]
        for run in runs:
            previous = earlier.get(run.path) if args.recheck else None
            if args.recheck and previous is None:
                progress(f"{run.path} is not in {args.recheck}: every mutant runs")
            run_module(run, workspaces, args.jobs, markers, equivalents, progress, previous)
            if run.error:
                progress(f"{run.path}: {run.error.splitlines()[0]}")
            else:
                progress(f"{run.path}: {run.score:.1f} % ({run.killed}/{run.total - run.equivalent})")
    print(report(runs, args.show_equivalent))
    print(f"\n{time.monotonic() - started:.0f} s with {args.jobs} job(s); markers: {markers}")
    if args.json:
        rows = [
            {
                "module": r.mutant.path,
                "line": r.mutant.line,
                "function": r.mutant.function,
                "mutation": r.mutant.description,
                "status": r.status,
                "seconds": round(r.seconds, 2),
                "detail": r.detail,
            }
            for run in runs
            for r in run.results
        ]
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    failed = [run for run in runs if run.error or run.score < args.threshold]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
