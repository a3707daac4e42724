"""Custom rules as Common Expression Language conditions, compiled once at load by Google's CEL
runtime (``cel-expr-python``, the C++ implementation behind a Python binding).

A rule sees ``request`` (the normalized request as a map), ``history`` (counts and sums over the
lookback), ``facts`` (derived numbers such as ``days_since_delivery``) and ``now``. CEL cannot loop
forever or touch anything outside these values, and the runtime never calls Python's ``eval``.
The three maps are declared ``map(string, dyn)``: their fields are typed by their values when a
rule runs, which is why every rule is also run once on a fully populated request at load
(``check_rule``), so a type mistake that only a value shows still fails when the policy loads.

The runtime (and protobuf, for timestamps) is imported by the first rule compiled: a policy
without custom rules, and a web worker that never loads or runs one, does without its memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from hub.models import Customer, DigitalUsage, Line, OrderFacts, Payment, ProductKind, ReasonCode, RefundRequest
from hub.policy.cel_words import VARIABLES as VARIABLES
from hub.policy.cel_words import compile_problem, evaluation_problem, type_name
from hub.policy.errors import PolicyError

if TYPE_CHECKING:
    from google.protobuf.timestamp_pb2 import Timestamp

_INT64 = range(-(2**63), 2**63)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@cache
def _runtime() -> Any:
    """The CEL runtime's module, imported on first use (with protobuf about 5 MB of a process)."""
    from cel_expr_python import cel

    return cel


@cache
def _timestamp_type() -> Any:
    from google.protobuf.timestamp_pb2 import Timestamp

    return Timestamp


@cache
def _environment() -> Any:
    """One environment for every rule: the four variables and CEL's standard library."""
    types = _runtime().Type
    fields = types.Map(types.STRING, types.DYN)
    return _runtime().NewEnv(variables={"request": fields, "history": fields, "facts": fields, "now": types.TIMESTAMP})


@dataclass(frozen=True, eq=False)
class Program:
    """A compiled rule. ``expression`` belongs to the shared environment; it is immutable and
    holds no state between evaluations."""

    text: str
    expression: Any


class CustomRuleError(Exception):
    """A custom rule could not be evaluated for this request (the message is plain words)."""


def compile_rule(key: str, name: str, text: str) -> tuple[Program, frozenset[str], frozenset[str]]:
    """The runnable program, the top-level variables it may read, and every word of its text (the
    only field names it can reach); a syntax or type error names the rule in plain words."""
    try:
        expression = _environment().compile(text)
    except RuntimeError as exc:  # the runtime's parser and type checker report through RuntimeError
        problem, pointer = compile_problem(str(exc), text)
        raise PolicyError(key, f"rule {name!r}: {problem}", pointer=pointer) from None
    result = expression.return_type()
    if result not in (_runtime().Type.BOOL, _runtime().Type.DYN):
        raise PolicyError(key, f"rule {name!r}: the expression gives {type_name(result.name())}, not true or false")
    words = frozenset(_WORD.findall(text))
    # A word is not always a reference (it may sit in a string literal): converting one variable
    # more than needed is harmless, leaving out one the rule reads would fail it.
    return Program(text, expression), words & frozenset(VARIABLES), words


def compile_together(programs: Sequence[Program]) -> Program:
    """Compiled rules as one list expression, so a decision calls into the runtime once. Each
    rule sits on lines of its own: a ``//`` comment in one cannot swallow the next."""
    text = "[" + ",".join(f"(\n{program.text}\n)" for program in programs) + "]"
    return Program(text, _environment().compile(text))


def evaluate_together(
    together: Program, programs: Sequence[Program], values: dict[str, Any]
) -> list[bool | CustomRuleError]:
    """Each rule's outcome for one request: its truth, or the error that stopped it. The common
    case is one evaluation of ``together``; when it fails (one failing rule fails the whole list)
    each rule is evaluated on its own, to tell which one failed and why."""
    bindings = activation(values)
    try:
        value = together.expression.eval(bindings)
    except Exception:  # noqa: BLE001 - the rules one by one say what failed
        value = None
    if value is not None and value.type() != _runtime().Type.ERROR:
        results = value.plain_value()
        if all(type(result) is bool for result in results):
            return list(results)
    return [_outcome(program, bindings) for program in programs]


def _outcome(program: Program, bindings: Any) -> bool | CustomRuleError:
    try:
        return evaluate(program, bindings)
    except CustomRuleError as exc:
        return exc


def activation(values: dict[str, Any]) -> Any:
    """The runtime's bindings for one request: converted once and shared by every rule."""
    return _environment().Activation(values)


def evaluate(program: Program, bindings: Any) -> bool:
    """True/False, or ``CustomRuleError`` when the expression fails or is not a condition."""
    try:
        value = program.expression.eval(bindings)
    except Exception as exc:  # noqa: BLE001 - any runtime failure is data for the caller: the rule could not decide
        raise CustomRuleError(evaluation_problem(str(exc))) from None
    kind, types = value.type(), _runtime().Type
    if kind == types.BOOL:
        return bool(value.value())
    if kind == types.ERROR:
        raise CustomRuleError(evaluation_problem(str(value.value())))
    raise CustomRuleError(f"the expression gave {type_name(kind.name())}, not true or false")


def check_rule(key: str, name: str, program: Program) -> None:
    """Run the rule once on a request with every field filled: unknown fields, type mistakes and
    non-boolean results surface at load time instead of on a customer's refund."""
    try:
        evaluate(program, activation(sample_values()))
    except CustomRuleError as exc:
        raise PolicyError(key, f"rule {name!r}: {exc}") from None


def to_cel(value: object, names: frozenset[str] | None = None) -> Any:
    """Python and pydantic data as the runtime takes it: enums become their string value, unknown
    (None) fields are left out, times become protobuf Timestamps (the runtime reads a nested
    ``datetime`` only in that form). With ``names`` a model field the rules cannot name — CEL
    reaches a field only by writing it — is left out at every depth, which spares converting
    whole lines and payments that no rule reads."""
    kind = type(value)
    if kind is str or kind is bool or kind is float:
        return value
    if kind is int:
        if value not in _INT64:
            raise ValueError(f"{value} is outside CEL's int range")
        return value
    if isinstance(value, BaseModel):
        return _model(value, names)
    if isinstance(value, Enum):
        return value._value_  # ``.value`` is a slow descriptor on Python 3.11
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, (list, tuple)):
        return [item if type(item) is str else to_cel(item, names) for item in value]
    if isinstance(value, Mapping):
        # Unknown values are left out rather than null: CEL's ``has(x.field)`` is the guard.
        return {str(k): to_cel(v, names) for k, v in value.items() if v is not None}
    return _plain_subclass(value)


def _plain_subclass(value: object) -> Any:
    """A subclass of a plain type (an ``IntEnum`` is caught earlier) as that type."""
    for plain in (bool, int, str, float):
        if isinstance(value, plain):
            return to_cel(plain(value))
    raise TypeError(f"no CEL value for {type(value).__name__}")


def _model(model: BaseModel, names: frozenset[str] | None) -> dict[str, Any]:
    out = {}
    for field in _fields(type(model), names):
        item = getattr(model, field)
        if type(item) is str:
            out[field] = item
        elif item is not None:
            out[field] = to_cel(item, names)
    return out


@cache
def _fields(model: type[BaseModel], names: frozenset[str] | None) -> tuple[str, ...]:
    """The fields of ``model`` a rule can see (a line's ``total`` is a property, shown too)."""
    fields = [*model.model_fields, *(["total"] if model is Line else [])]
    return tuple(field for field in fields if names is None or field in names)


def timestamp(moment: datetime) -> Timestamp:
    if moment.tzinfo is None:  # the hub's naive times are UTC
        moment = moment.replace(tzinfo=UTC)
    since = moment - _EPOCH
    return _timestamp_type()(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1_000)


def request_map(request: RefundRequest, names: frozenset[str] | None = None) -> dict[str, Any]:
    """The request as the rules see it, limited to the fields ``names`` can reach."""
    converted: dict[str, Any] = to_cel(request, names)
    return converted


def sample_values() -> dict[str, Any]:
    """A fully populated set of variables: ``check_rule`` runs every rule on it once at load time,
    so a rule naming a missing field fails when the policy loads, not on a customer's refund."""
    moment = datetime(2024, 1, 10, tzinfo=UTC)
    history = {name: 1 for name in HISTORY_NUMBERS} | {"payment_disputed": False}
    facts = {name: 5 for name in FACT_DAYS} | {"merchant_fault": True}
    return {
        "request": request_map(_sample_request(moment)),
        "history": history,
        "facts": facts,
        "now": timestamp(moment + timedelta(days=6)),
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
        payments=(
            Payment(
                platform_label="stripe",
                gateway="stripe",
                reference="pi",
                captured=10_000,
                currency="USD",
                extra={"fingerprint": "card"},
                refundable=10_000,
                suggested=6_000,
            ),
        ),
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
