"""CEL mistakes read as plain words: in a load error (what ``refund-hub policy check`` and the
console's editor show) and in a decision's rule list, never the runtime's overload ids, status
codes or parser internals."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from policy_factory import ASKED, policy, request

from hub.cli.policy import policy_group
from hub.policy import History, decide
from hub.policy.errors import PolicyError

JARGON = ("overload", "_>_", "_+_", "INVALID_ARGUMENT", "UNKNOWN:", "NOT_FOUND", "Token(", "<input>", "int64")

CASES = [
    ("request.amount + 1.5 > 0.0", "'+' cannot combine an int with a double: CEL never mixes int, uint and double"),
    ("request.amount + 1.5 > 0", "'>' cannot compare a double with an int"),
    ("1 + 1u == 2", "write both numbers in one type (2, 2u, 2.0)"),
    ("request.amount > 'x'", "'>' cannot compare an int with a string"),
    ("request.amount > null", "an unknown value is absent, not null; guard it with has(...)"),
    ("now + 1 > now", "'+' cannot combine a timestamp with an int: add or subtract a duration"),
    ("now - request.order.paid_at > 8", "'>' cannot compare a duration with an int"),
    ("size(request.amount) > 1", "size() cannot be applied to an int"),
    ("request.reason.startsWith(1)", "startsWith() cannot be applied to a field value and an int"),
    ("request.amout > 1", "no such member 'amout'"),
    ("histroy.x > 1 || true", "undeclared reference to 'histroy': a rule can read request, history, facts and now"),
    ("request.amount.foo()", "undeclared reference to 'foo': CEL has no function of that name"),
    ("request.amount >", "not a valid CEL expression: the expression ends too early (column 17)"),
    ("request.amount = 1", "'=' is not CEL: compare with =="),
    ("request.amount > 1 & true", "'&' is not CEL: write && for and"),
    ("(request.amount > 1", "a ')' is missing"),
    ("request.reason == 'damaged", "a quoted string is not closed"),
    ("request.amount > 1)", "unexpected ')'"),
    ("has(request)", "has() takes a field, e.g. has(request.order.delivered_at)"),
    ("request.amount + 1", "the expression gives an int, not true or false"),
    ("request.amount", "the expression gave an int, not true or false"),
    ("request.amount / 0 > 1", "division by zero"),
    ("request.amount * 9223372036854775807 > 0", "integer overflow"),
    ("request.lines[3].total > 0", "index 3 is outside a list of 1"),
    ("int(request.reason) > 0", "cannot convert a string to an int"),
    ("timestamp('soon') < now", "the text is not a timestamp"),
    ("duration('3 days') > duration('1h')", "the text is not a duration: write e.g. duration('72h')"),
]


def problem_of(when: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        policy(rules=[{"name": "r", "when": when, "effect": "deny"}])
    return caught.value


@pytest.mark.parametrize(("when", "words"), CASES)
def test_a_rule_mistake_is_explained_in_plain_words(when: str, words: str) -> None:
    error = problem_of(when)
    assert error.key == "rules[0].when"
    assert error.problem.startswith("rule 'r': ")
    assert words in error.problem
    assert not [word for word in JARGON if word in error.problem]


def test_a_compile_error_points_at_its_column() -> None:
    error = problem_of("request.amount >= 1 &&\nrequest.reason = 'x'")
    assert error.pointer == ("request.reason = 'x'", 15)


def test_policy_check_prints_the_words_and_a_caret(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('version = "1"\n[[rules]]\nname = "big"\nwhen = "request.amount + 1.5 > 0"\neffect = "review"\n')
    result = CliRunner().invoke(policy_group, ["check", str(path)])
    assert result.exit_code == 2
    assert "rules[0].when: rule 'big': '>' cannot compare a double with an int" in result.output
    assert "    request.amount + 1.5 > 0\n" + " " * 25 + "^\n" in result.output
    assert "overload" not in result.output


def test_a_decision_explains_a_rule_that_failed_in_plain_words() -> None:
    pol = policy(rules=[{"name": "big-spender", "when": "history.order_total > 100000", "effect": "deny"}])
    decision = decide(pol, request(), History(customer_order_total=None), ASKED)
    hit = next(hit for hit in decision.rules if hit.rule == "custom.big-spender")
    assert (hit.effect, decision.action) == ("review", "review")
    assert hit.detail.startswith("could not be evaluated (no such member 'order_total': the field does not exist")
    assert "guard optional fields with has(...)" in hit.detail
    assert not [word for word in JARGON if word in hit.detail]
