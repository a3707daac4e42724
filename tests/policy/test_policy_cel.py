"""Custom CEL rules: what the rules see (the documented variables, only the fields they name,
unknown values absent), and the one-call evaluation of all rules agreeing with rule by rule."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from policy_factory import ASKED, line, policy, request

from hub.models import ProductKind
from hub.policy import Decision, History, decide
from hub.policy import cel as policy_cel
from hub.policy.context import Context
from hub.policy.custom import facts, history_numbers


def test_documented_variables_exist() -> None:
    ctx = Context(policy(), request(), History(customer_order_count=3, customer_order_total=9), ASKED)
    assert set(history_numbers(ctx)) == set(policy_cel.HISTORY_NUMBERS) | {"payment_disputed"}
    assert set(facts(ctx)) == set(policy_cel.FACT_DAYS) | {"merchant_fault"}
    assert set(policy_cel.sample_values()) == set(policy_cel.VARIABLES)


def test_only_named_numbers_are_counted() -> None:
    ctx = Context(policy(), request(), History(customer_order_count=3), ASKED)
    names = frozenset({"history", "order_count", "facts", "merchant_fault"})
    assert history_numbers(ctx, names) == {"order_count": 3}
    assert facts(ctx, names) == {"merchant_fault": False}


def test_only_named_request_fields_are_converted() -> None:
    text = "request.amount > 1 && request.lines.exists(l, 'x' in l.tags) && has(history.order_count)"
    _, used, names = policy_cel.compile_rule("k", "n", text)
    assert used == {"request", "history"}
    data = policy_cel.request_map(request(), names)
    assert data == {"amount": 2_000, "lines": [{"tags": []}]}


def test_every_field_of_the_request_is_there_without_names() -> None:
    data = policy_cel.request_map(request([line("1", 2_000, tags=("a",))]))
    assert data["lines"][0]["total"] == 2_000  # a property, shown like a field
    assert data["lines"][0]["kind"] == "physical"  # enums as their value
    assert data["reason"] == "changed_mind"
    assert isinstance(data["order"]["created_at"], Timestamp)
    assert "hub_refund_id" not in data  # unknown: absent, not null


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


def test_conversion() -> None:
    moment = datetime(2024, 1, 10, 12, 30, 1, 250, tzinfo=UTC)
    assert policy_cel.to_cel({"a": 1, "b": "x", "c": [True, 2.5], "gone": None, "kind": ProductKind.DIGITAL}) == {
        "a": 1,
        "b": "x",
        "c": [True, 2.5],
        "kind": "digital",
    }
    stamp = policy_cel.timestamp(moment)
    assert (stamp.seconds, stamp.nanos) == (int(moment.timestamp()), 250_000)
    assert policy_cel.timestamp(moment.replace(tzinfo=None)) == stamp  # the hub's naive times are UTC
    with pytest.raises(ValueError, match="outside CEL's int range"):
        policy_cel.to_cel(2**63)
    with pytest.raises(TypeError, match="no CEL value for object"):
        policy_cel.to_cel(object())


RULES = [
    "request.amount > 1000",
    "request.nope > 1",  # fails: no such field
    "request.reason == 'damaged'",
    "request.amount / 0 > 1",  # fails: division by zero
]


@pytest.mark.parametrize("texts", [RULES[:1] + RULES[2:3], RULES])
def test_rules_together_agree_with_rules_one_by_one(texts: list[str]) -> None:
    programs = [policy_cel.compile_rule("k", "n", text)[0] for text in texts]
    values = policy_cel.sample_values()
    together = policy_cel.evaluate_together(policy_cel.compile_together(programs), programs, values)
    one_by_one: list[bool | str] = []
    for program in programs:
        try:
            one_by_one.append(policy_cel.evaluate(program, policy_cel.activation(values)))
        except policy_cel.CustomRuleError as exc:
            one_by_one.append(str(exc))
    assert [str(x) if isinstance(x, Exception) else x for x in together] == one_by_one
    assert one_by_one[0] is True


def test_a_comment_in_one_rule_does_not_swallow_the_next() -> None:
    programs = [policy_cel.compile_rule("k", "n", text)[0] for text in ("true // always", "false")]
    together = policy_cel.compile_together(programs)
    assert policy_cel.evaluate_together(together, programs, policy_cel.sample_values()) == [True, False]


def test_a_failing_rule_fails_safe_and_names_the_problem() -> None:
    pol = policy(rules=[{"name": "zero", "when": "request.amount / (request.shipping - 0) > 1", "effect": "deny"}])
    decision = decide(pol, request(shipping=0), History(), ASKED)
    assert decision.action == "review"
    hit = next(hit for hit in decision.rules if hit.rule == "custom.zero")
    assert hit.detail.startswith("could not be evaluated (division by zero)")


def test_rules_decide_the_same_from_many_threads() -> None:
    """Workers decide in threads: one compiled program serves them all."""
    pol = policy(
        rules=[
            {
                "name": "big",
                "when": "request.amount > 2500 && now - request.requested_at < duration('1h')",
                "effect": "review",
            },
            {"name": "tagged", "when": "request.lines.exists(l, 'x' in l.tags)", "effect": "deny"},
        ]
    )
    requests = [request([line("1", 1_000 + 100 * n, tags=("x",) if n % 3 == 0 else ())]) for n in range(30)]
    expected = [decide(pol, req, History(), ASKED) for req in requests]

    def run(_: int) -> list[Decision]:
        return [decide(pol, req, History(), ASKED) for req in requests * 5]

    with ThreadPoolExecutor(max_workers=4) as pool:
        for decided in pool.map(run, range(8)):
            assert decided == expected * 5
    assert {d.action for d in expected} == {"approve", "review", "deny"}
