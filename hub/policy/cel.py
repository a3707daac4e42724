"""Custom rules as Common Expression Language conditions (cel-python), compiled once at load.

A rule sees ``request`` (the normalized request as a map), ``history`` (counts and sums over the
lookback), ``facts`` (derived numbers such as ``days_since_delivery``) and ``now``. CEL cannot loop
forever or touch anything outside these values; we use celpy's tree-walking interpreter, which
keeps no global state between evaluations (its transpiling runner does) and never calls ``eval``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import lru_cache
from typing import Any

import celpy
import lark
from celpy import celtypes
from celpy.celparser import CELParseError
from celpy.evaluation import Activation, CELFunction

from hub.models import Customer, DigitalUsage, Line, OrderFacts, Payment, ProductKind, ReasonCode, RefundRequest
from hub.policy.errors import PolicyError

VARIABLES = ("request", "history", "facts", "now")
_INT64 = range(-(2**63), 2**63)


class _Runner(celpy.InterpretedRunner):
    """celpy's interpreter with its base activation built once per program instead of once per
    evaluation (building it re-reads every annotation; evaluation clones it, never mutates it)."""

    def __init__(
        self,
        environment: celpy.Environment,
        ast: lark.Tree[lark.Token],
        functions: dict[str, CELFunction] | None = None,
    ) -> None:
        super().__init__(environment, ast, functions)
        self._base = super().new_activation()

    def new_activation(self) -> Activation:
        return self._base


@lru_cache(maxsize=1)
def _environment() -> celpy.Environment:
    """Made on first use: creating it raises the interpreter's recursion limit (celpy needs 2500)."""
    return celpy.Environment(runner_class=_Runner)


# Grammar levels whose evaluator method, given one child, returns that child's value unchanged
# (celpy/evaluation.py Evaluator.expr … member). A comparison parses ~20 levels deep; dropping
# these wrappers halves the work of the tree-walking interpreter without changing any result.
_PASS_THROUGH = frozenset(
    {"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication", "unary", "member"}
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _collapse(tree: lark.Tree[lark.Token]) -> lark.Tree[lark.Token]:
    while tree.data in _PASS_THROUGH and len(tree.children) == 1 and isinstance(tree.children[0], lark.Tree):
        tree = tree.children[0]
    tree.children = [_collapse(c) if isinstance(c, lark.Tree) else c for c in tree.children]
    return tree


_TRUE, _FALSE = celtypes.BoolType(True), celtypes.BoolType(False)
_KEYS: dict[str, celtypes.StringType] = {}


def _key(name: str) -> celtypes.StringType:
    """Map keys repeat (``amount``, ``tags``…): one immutable StringType per name."""
    key = _KEYS.get(name)
    if key is None:
        key = _KEYS[name] = celtypes.StringType(name)
    return key


def to_cel(value: object) -> celtypes.Value:
    """Python/pydantic data to CEL values (enums become their string value, None keys are dropped).

    celpy's constructors re-check their argument's type on every call (IntType even re-wraps a
    decorator), which made conversion cost more than evaluation; the exact Python types take a
    direct path here and everything else the checked constructor.
    """
    kind = type(value)
    if kind is bool:
        return _TRUE if value else _FALSE
    if type(value) is int:  # (not ``kind``: mypy narrows only the direct form)
        if value not in _INT64:
            raise ValueError(f"{value} is outside CEL's int range")
        return int.__new__(celtypes.IntType, value)
    if kind is str:
        return str.__new__(celtypes.StringType, value)
    if value is None:
        return None
    return _to_cel_checked(value)


def _to_cel_checked(value: object) -> celtypes.Value:
    """``to_cel`` for everything but the exact plain types and None."""
    if isinstance(value, Enum):
        return celtypes.StringType(value.value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, datetime):
        return celtypes.TimestampType(value)
    if isinstance(value, Mapping):
        # Unknown values are left out rather than null: CEL's ``has(x.field)`` is the guard, and
        # celpy cannot compare a number with null.
        converted = celtypes.MapType()
        dict.update(converted, {_key(k): to_cel(v) for k, v in value.items() if v is not None})
        return converted
    if isinstance(value, (list, tuple)):
        return celtypes.ListType([to_cel(item) for item in value])
    if isinstance(value, bool):  # subclasses of the plain types (celpy's own included)
        return to_cel(bool(value))
    if isinstance(value, int):
        return to_cel(int(value))
    if isinstance(value, str):
        return to_cel(str(value))
    raise TypeError(f"no CEL value for {type(value).__name__}")


def request_map(request: RefundRequest, names: frozenset[str] | None = None) -> dict[str, Any]:
    """The request as plain data. With ``names`` (every word of the rules' text) a field the rules
    cannot name — CEL reaches a map key only by writing it — is left out at every depth, which
    spares converting whole lines and payments that no rule reads."""
    data = request.model_dump(mode="python", include=set(names) if names is not None else None)
    if "lines" in data:
        for line, dumped in zip(request.lines, data["lines"], strict=True):
            dumped["total"] = line.total
    return data if names is None else _prune(data, names)


def _prune(value: Any, names: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v, names) for k, v in value.items() if k in names}
    if isinstance(value, (list, tuple)):
        return [_prune(item, names) for item in value]
    return value


def compile_rule(key: str, name: str, text: str) -> tuple[celpy.Runner, frozenset[str], frozenset[str]]:
    """The runnable program, the top-level variables it reads, and every word of its text (the
    only field names it can reach); a syntax error names the rule."""
    try:
        ast: lark.Tree[lark.Token] = _environment().compile(text)
    except (CELParseError, lark.exceptions.LarkError) as exc:  # celpy's error for bad syntax, lark's below it
        raise PolicyError(key, f"rule {name!r}: not a valid CEL expression: {_first_line(exc)}") from None
    used = frozenset(
        token.value for token in ast.scan_values(lambda t: isinstance(t, lark.Token)) if token.value in VARIABLES
    )
    return _environment().program(_collapse(ast)), used, frozenset(_WORD.findall(text))


def evaluate(program: celpy.Runner, activation: Mapping[str, celtypes.Value]) -> bool:
    """True/False, or ``CustomRuleError`` when the expression fails or is not a condition."""
    try:
        value = program.evaluate(activation)
    except Exception as exc:  # noqa: BLE001 - any celpy failure is data for the caller: the rule could not decide
        raise CustomRuleError(_first_line(exc)) from None
    if not isinstance(value, celtypes.BoolType):
        raise CustomRuleError(f"the expression gave {type(value).__name__}, not true or false")
    return bool(value)


class CustomRuleError(Exception):
    """A custom rule could not be evaluated for this request."""


def check_rule(key: str, name: str, program: celpy.Runner) -> None:
    """Run the rule once on a request with every field filled: unknown names, type mistakes and
    non-boolean results surface at load time instead of on a customer's refund."""
    try:
        evaluate(program, sample_activation())
    except CustomRuleError as exc:
        raise PolicyError(key, f"rule {name!r}: {exc}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    return text.split(" (in activation", 1)[0].strip().splitlines()[0] if text.strip() else type(exc).__name__


def sample_activation() -> dict[str, celtypes.Value]:
    """A fully populated activation: ``check_rule`` runs every rule on it once at load time, so a
    rule naming a missing field fails when the policy loads, not on a customer's refund."""
    moment = datetime(2024, 1, 10, tzinfo=UTC)
    history = {name: 1 for name in HISTORY_NUMBERS} | {"payment_disputed": False}
    facts = {name: 5 for name in FACT_DAYS} | {"merchant_fault": True}
    return {
        "request": to_cel(request_map(_sample_request(moment))),
        "history": to_cel(history),
        "facts": to_cel(facts),
        "now": to_cel(moment + timedelta(days=6)),
    }


def _sample_request(moment: datetime) -> RefundRequest:
    order = OrderFacts(
        created_at=moment,
        paid_at=moment,
        fulfilled_at=moment,
        delivered_at=moment,
        currency="USD",
        total=10_000,
        captured=10_000,
        refunded=100,
        presentment_currency="USD",
    )
    line = Line(
        line_id="1",
        sku="SKU",
        product_id="P",
        title="Item",
        quantity=1,
        unit_price=5_000,
        tax=500,
        kind=ProductKind.DIGITAL,
        tags=("tag",),
        usage=DigitalUsage(downloads=1, download_limit=3, activations=1, accessed=True),
    )
    return RefundRequest(
        connector="sample",
        store_id="store",
        order_id="order",
        source_ref="ref",
        delivery_id="delivery",
        customer=Customer(id="customer", email="ann@example.com"),
        order=order,
        lines=(line,),
        shipping=500,
        amount=6_000,
        currency="USD",
        reason=ReasonCode.DAMAGED,
        reason_text="text",
        payments=(Payment(platform_label="stripe", gateway="stripe", reference="pi", captured=10_000, currency="USD"),),
        requested_at=moment + timedelta(days=5),
        hub_refund_id="hub",
    )


HISTORY_NUMBERS = (
    "refunds",
    "customer_refunds",
    "email_refunds",
    "payment_refunds",
    "customer_refunded",
    "refunded_orders",
    "order_count",
    "order_total",
)
FACT_DAYS = ("days_since_order", "days_since_payment", "days_since_fulfillment", "days_since_delivery")
