"""The editor's check: the parser's first problem placed at the line of the TOML text it is
about, in plain words (no database)."""

from __future__ import annotations

import pytest

from hub.console.policy_text import check, key_lines
from hub.policy.defaults import EXAMPLE_POLICY_PATH

EXAMPLE = EXAMPLE_POLICY_PATH.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_example_is_valid_and_has_no_problem() -> None:
    checked = check(EXAMPLE)
    assert checked.problem is None
    assert checked.policy is not None
    assert checked.policy.version.startswith("2025-03-01+")


def test_keys_and_arrays_of_tables_are_numbered_as_the_parser_numbers_them() -> None:
    lines = key_lines(EXAMPLE)
    assert lines["windows.digital.days"] == _line_of(EXAMPLE, "days = 14")
    assert lines["rules[1].name"] == _line_of(EXAMPLE, 'name = "large-change-of-mind"')
    assert lines["abuse.velocity[0]"] < lines["abuse.velocity[1]"]


@pytest.mark.parametrize(
    ("change", "at", "words"),
    [
        (("days = 14", "days = -3"), "days = -3", "days in [windows.digital] must be 0 or more"),
        (("[exclusions]\n", "[exclusions]\nskus_ = ['x']\n"), "skus_ = ['x']", "is not a setting the policy knows"),
        (
            ('when = "has(history', 'when = "histroy.x > 1 || has(history'),
            "histroy.x",
            "when in [rules #1]: rule 'loyal-customer': undeclared reference to 'histroy'",
        ),
    ],
)
def test_a_problem_is_shown_at_its_line_in_plain_words(change: tuple[str, str], at: str, words: str) -> None:
    text = EXAMPLE.replace(*change, 1)
    problem = check(text).problem
    assert problem is not None
    assert problem.line == _line_of(text, at)
    assert words in problem.message
    assert (problem.line, text.splitlines()[problem.line - 1]) in problem.excerpt


def test_an_item_of_an_inline_table_sits_on_its_key_line() -> None:
    problem = check('version = "x"\n[amounts]\nreview_above = { default = 250, JPY = -4 }\n').problem
    assert problem is not None
    assert (problem.line, problem.message) == (3, "JPY in [amounts.review_above] must be 0 or more")


def test_a_toml_syntax_error_keeps_the_line_and_column_tomllib_gives() -> None:
    problem = check('version = "x"\n[amounts]\nreview_above 250\n').problem
    assert problem is not None
    assert (problem.line, problem.column) == (3, 14)
    assert problem.where == "Line 3, column 14"
    assert problem.message.startswith("This is not valid TOML: ")
