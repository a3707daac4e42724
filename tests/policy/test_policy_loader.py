"""Loading: TOML, YAML, inline tables; every mistake names its key path; versions follow content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.errors import ConfigError
from hub.policy import DEFAULT_POLICY, PolicyError, load_policy
from hub.policy.defaults import EXAMPLE_POLICY_PATH

DOCS = Path(__file__).resolve().parents[2] / "docs" / "policy.md"


def rule(name: str, when: str, effect: str = "deny") -> dict[str, Any]:
    return {"rules": [{"name": name, "when": when, "effect": effect}]}


@pytest.mark.parametrize(
    ("data", "key", "problem"),
    [
        ({"windows": {"digital": {"days": -1}}}, "windows.digital.days", "must be >= 0"),
        ({"windows": {"digitl": {"days": 3}}}, "windows.digitl", "did you mean 'digital'"),
        ({"windows": {"default": {"start": "shipping"}}}, "windows.default.start", "must be one of"),
        ({"windows": {"mode": "fuzzy"}}, "windows.mode", "must be one of"),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"exclusions": {"final_sale": "yes"}}, "exclusions.final_sale", "true or false"),
        ({"exclusions": {"kinds": ["vinyl"]}}, "exclusions.kinds[0]", "must be one of"),
        ({"exclusions": {"skus": "ABC"}}, "exclusions.skus", "list of strings"),
        ({"amounts": {"review_above": -5}}, "amounts.review_above", "must be >= 0"),
        ({"amounts": {"review_above": {"XYZ": 5}}}, "amounts.review_above.XYZ", "ISO 4217"),
        ({"amounts": {"review_above": "lots"}}, "amounts.review_above", "must be a number"),
        ({"amounts": {"customer_cap": {"days": 30}}}, "amounts.customer_cap.amount", "is required"),
        ({"amounts": {"cap_effect": "shrug"}}, "amounts.cap_effect", "must be one of"),
        ({"fees": [{"name": "restocking", "percent": 120}]}, "fees[0].percent", "<= 100"),
        ({"fees": [{"name": "restocking"}]}, "fees[0].percent", "percent or a fixed"),
        ({"fees": [{"percent": 5}]}, "fees[0].name", "is required"),
        ({"fees": [{"name": "a", "percent": 1}, {"name": "a", "percent": 2}]}, "fees[1].name", "used twice"),
        ({"abuse": {"velocity": [{"max": 3}]}}, "abuse.velocity[0].days", "either days or hours"),
        ({"abuse": {"velocity": [{"max": 3, "days": 400}]}}, "abuse.velocity[0].days", "lookback_days"),
        ({"abuse": {"velocity": [{"max": 0, "days": 4}]}}, "abuse.velocity[0].max", ">= 1"),
        ({"abuse": {"blocklist": {"emails": ["nobody"]}}}, "abuse.blocklist.emails[0]", "email address"),
        (
            {"abuse": {"blocklist": {"customers": ["c1"]}, "allowlist": {"customers": ["c1"]}}},
            "abuse.allowlist.customers",
            "also on the blocklist",
        ),
        ({"hard": {"dispute": "approve"}}, "hard.dispute", "must be one of"),
        ({"history": {"lookback_days": 0}}, "history.lookback_days", ">= 1"),
        ({"alternatives": {"offer": "cash"}}, "alternatives.offer", "must be one of"),
        (
            {"rules": [{"name": "x", "when": "true", "effect": "offer_alternative"}]},
            "rules[0].effect",
            "alternatives.offer",
        ),
        ({"rules": [{"name": "broken", "when": "request.amount >", "effect": "deny"}]}, "rules[0].when", "'broken'"),
        (
            {"rules": [{"name": "typo", "when": "reqest.amount > 1", "effect": "deny"}]},
            "rules[0].when",
            "undeclared reference",
        ),
        (
            {"rules": [{"name": "field", "when": "request.amout > 1", "effect": "deny"}]},
            "rules[0].when",
            "no such member",
        ),
        (
            {"rules": [{"name": "number", "when": "request.amount + 1", "effect": "deny"}]},
            "rules[0].when",
            "not true or false",
        ),
        (
            {"rules": [{"name": "types", "when": "request.amount + 1.5 > 0.0", "effect": "deny"}]},
            "rules[0].when",
            "'+' cannot combine an int with a double",
        ),
        ({"rules": [{"name": "bad name!", "when": "true", "effect": "deny"}]}, "rules[0].name", "letters"),
        ({"rules": [{"name": "a", "when": "true", "effect": "info"}] * 2}, "rules[1].name", "used twice"),
        ({"version": ["x"]}, "version", "must be a string"),
        ({"surprise": 1}, "surprise", "unknown key"),
    ],
)
def test_invalid_policies_name_the_key(data: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(data)
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{key}: ")
    assert isinstance(caught.value, ConfigError)


def test_file_errors_carry_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[windows.digital]\ndays = -1\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}: windows.digital.days: must be >= 0"
    path.write_text("windows = [")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(str(path))
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.toml")


def test_toml_yaml_and_inline_tables_agree(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    toml = tmp_path / "p.toml"
    toml.write_text('version = "2025-03"\n# a comment\n[amounts]\nreview_above = 100\n')
    yaml_file = tmp_path / "p.yaml"
    yaml_file.write_text('version: "2025-03"\namounts:\n  review_above: 100\n')
    inline = load_policy({"version": "2025-03", "amounts": {"review_above": 100}})
    assert load_policy(toml) == load_policy(yaml_file) == inline
    assert inline.version.startswith("2025-03+")


def test_version_changes_with_content_only() -> None:
    a = load_policy({"version": "v1", "amounts": {"review_above": 100}})
    b = load_policy({"amounts": {"review_above": 100}, "version": "v1"})
    c = load_policy({"version": "v1", "amounts": {"review_above": 101}})
    assert a.version == b.version != c.version
    assert a.version.split("+")[0] == c.version.split("+")[0] == "v1"
    assert load_policy({}).version.startswith("unversioned+")


def test_default_policy() -> None:
    assert DEFAULT_POLICY.version.startswith("default+")
    assert DEFAULT_POLICY.history_lookback_days == 365
    words = "\n".join(DEFAULT_POLICY.describe())
    for phrase in ("30 days of delivery", "gift cards", "final-sale items", "go to review", "open dispute"):
        assert phrase in words
    assert load_policy({"version": "default"}) == DEFAULT_POLICY


def test_the_docs_show_the_shipped_example() -> None:
    text = DOCS.read_text()
    block = text.split("<!-- example:start -->\n```toml\n", 1)[1].split("```\n<!-- example:end -->", 1)[0]
    assert block == EXAMPLE_POLICY_PATH.read_text()


def test_the_example_loads_and_describes_every_section() -> None:
    example = load_policy(EXAMPLE_POLICY_PATH)
    words = "\n".join(example.describe())
    for phrase in (
        "Europe/Berlin",
        "Digital goods",
        "restocking fee",
        "per customer",
        "Blocklisted",
        "store credit",
        "Custom rule",
    ):
        assert phrase in words, phrase
    assert example.history_lookback_days == 180
