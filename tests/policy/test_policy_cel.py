"""Custom CEL rules: the pruned syntax tree evaluates exactly like celpy's own, and the variables
the docs promise exist."""

from __future__ import annotations

from typing import Any

import celpy
import pytest
from policy_factory import ASKED, policy, request

from hub.models import ProductKind
from hub.policy import History, decide
from hub.policy import cel as policy_cel
from hub.policy.context import Context
from hub.policy.custom import facts, history_numbers

EXPRESSIONS = [
    "request.amount > 5000",
    "request.amount >= 6000 && request.reason == 'damaged'",
    "request.reason in ['damaged', 'defective'] || request.amount < 10",
    "!(request.amount % 7 == 1) ? -request.amount < 0 : false",
    "request.lines.exists(l, l.kind == 'digital' && 'tag' in l.tags)",
    "request.lines.all(l, l.usage.downloads <= l.usage.download_limit)",
    "size(request.lines.filter(l, l.total > 1000)) == 1",
    "request.lines.map(l, l.quantity * 2)[0] == 2",
    "request.lines.exists_one(l, l.final_sale == false)",
    "has(request.customer.email) && request.customer.email.endsWith('@example.com')",
    "request.customer.email.matches('^ann@')",
    "now - request.requested_at < duration('48h')",
    "request.requested_at > timestamp('2024-01-01T00:00:00Z')",
    "int(request.order.total / 3) + request.shipping * 2 - 1 > 0",
    "double(request.amount) / 100.0 > 59.5",
    "{'a': 1, 'b': 2}['b'] == 2 && [1, 2, 3][1] == 2",
    "history.customer_refunds + history.email_refunds == 2 && history.payment_disputed == false",
    "facts.days_since_delivery >= 5 && facts.merchant_fault",
    "string(request.amount) + 'x' == '6000x'",
    "request.nope == 1",
    "request.amount / 0 > 1",
    "request.amount > 1.5",
    "(request.amount > 1 ? 'a' : 'b') == 'a'",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_pruned_tree_evaluates_like_celpy(text: str) -> None:
    activation = policy_cel.sample_activation()
    reference_env = celpy.Environment()

    def outcome(program: Any) -> Any:
        try:
            return repr(program.evaluate(activation))
        except Exception as exc:  # noqa: BLE001 - any failure is the outcome compared with celpy's
            return type(exc).__name__

    reference = outcome(reference_env.program(reference_env.compile(text)))
    pruned = outcome(policy_cel.compile_rule("rules[0].when", "t", text)[0])
    assert pruned == reference


def test_documented_variables_exist() -> None:
    ctx = Context(policy(), request(), History(customer_order_count=3, customer_order_total=9), ASKED)
    assert set(history_numbers(ctx)) == set(policy_cel.HISTORY_NUMBERS) | {"payment_disputed"}
    assert set(facts(ctx)) == set(policy_cel.FACT_DAYS) | {"merchant_fault"}
    assert set(policy_cel.sample_activation()) == set(policy_cel.VARIABLES)


def test_only_named_request_fields_are_converted() -> None:
    text = "request.amount > 1 && request.lines.exists(l, 'x' in l.tags) && has(history.order_count)"
    _, used, names = policy_cel.compile_rule("k", "n", text)
    assert used == {"request", "history"}
    data = policy_cel.request_map(request(), names)
    assert set(data) == {"amount", "lines"}
    assert data["lines"] == [{"tags": []}]


def test_rules_see_unknown_values_as_absent() -> None:
    pol = policy(
        rules=[
            {
                "name": "late",
                "when": "has(request.order.delivered_at) && facts.days_since_delivery > 2",
                "effect": "review",
            }
        ]
    )
    assert decide(pol, request(delivered=None), History(), ASKED).action == "approve"
    assert decide(pol, request(), History(), ASKED).action == "review"


def test_conversion_matches_celpys_own() -> None:
    from celpy.adapter import json_to_cel

    document = {"a": 1, "b": "x", "c": [True, False, {"d": 2.5}], "e": {"f": -(2**40)}}
    assert policy_cel.to_cel(document) == json_to_cel(document)
    assert policy_cel.to_cel({"kind": ProductKind.DIGITAL, "gone": None}) == json_to_cel({"kind": "digital"})
    with pytest.raises(ValueError, match="outside CEL's int range"):
        policy_cel.to_cel(2**63)
