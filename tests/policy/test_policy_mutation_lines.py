"""hub.policy.lines, pinned line by line (issue #21's mutation run): each exclusion's words and the
alternative it may become, which lines a kind exclusion reaches, the review note of a reported
reason, a window's words for a line and for a request without lines, the alternative's last day,
one note per kind whose window was counted from an earlier event, and digital-goods use."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from policy_factory import ASKED, digital, line, policy, request

from hub.policy import History, decide
from hub.policy.lines import Finding


def hits(decision: Any) -> list[tuple[str, str, str]]:
    return [(h.rule, h.effect, h.detail) for h in decision.rules if not h.rule.startswith("amount.")]


# exclusions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "rule", "detail", "category"),
    [
        ({"kind": "gift_card"}, "exclusion.gift_card", "gift card", "gift_card"),
        ({"final_sale": True}, "exclusion.final_sale", "marked final sale", "final_sale"),
        ({"sku": "S-1"}, "exclusion.sku", "SKU S-1 is excluded", "exclusion"),
        ({"tags": ("clearance",)}, "exclusion.tag", "tag 'clearance' is excluded", "exclusion"),
        ({"kind": "service"}, "exclusion.kind", "service products are excluded", "exclusion"),
    ],
)
def test_each_exclusion_names_itself_and_becomes_the_offer_its_category_allows(
    facts: dict[str, Any], rule: str, detail: str, category: str
) -> None:
    exclusions = {"skus": ["S-1"], "tags": ["clearance"], "kinds": ["service"]}
    built = request([line("1", 2_000, **facts)])
    denied = decide(policy(exclusions=exclusions), built, History(), ASKED)
    assert hits(denied) == [(rule, "deny", f"line 1 'Item 1': {detail}")]
    alternatives = {"offer": "store_credit", "instead_of": [category]}
    offered = decide(policy(exclusions=exclusions, alternatives=alternatives), built, History(), ASKED)
    assert (offered.action, offered.alternative, offered.amount) == ("offer_alternative", "store_credit", 2_000)
    others = {"offer": "store_credit", "instead_of": ["window"]}
    assert decide(policy(exclusions=exclusions, alternatives=others), built, History(), ASKED).action == "deny"


def test_a_kind_exclusion_reaches_only_lines_of_that_kind() -> None:
    built = request([line("1", 2_000), line("2", 1_000, kind="service", title="Setup")])
    decision = decide(policy(exclusions={"kinds": ["service"]}), built, History(), ASKED)
    assert decision.action == "approve_partial"
    assert decision.line_amounts == (("1", 2_000), ("2", 0))


def test_lines_with_tags_are_not_excluded_when_the_policy_excludes_no_tag() -> None:
    built = request([line("1", 2_000, tags=("clearance",))])
    assert decide(policy(exclusions={"skus": ["S-1"]}), built, History(), ASKED).action == "approve"


def test_a_reported_reason_sends_an_excluded_line_to_review_and_says_so_unless_review_is_the_effect() -> None:
    built = request([line("1", 2_000, final_sale=True)], reason="damaged")
    by_reason = decide(policy(exclusions={"final_sale": True}), built, History(), ASKED)
    assert hits(by_reason) == [
        ("exclusion.final_sale", "review", "line 1 'Item 1': marked final sale (reason damaged: sent to review)")
    ]
    by_effect = decide(policy(exclusions={"final_sale": True, "effect": "review"}), built, History(), ASKED)
    assert hits(by_effect) == [("exclusion.final_sale", "review", "line 1 'Item 1': marked final sale")]
    plain = request([line("1", 2_000, final_sale=True)])
    by_effect_only = decide(policy(exclusions={"final_sale": True, "effect": "review"}), plain, History(), ASKED)
    assert hits(by_effect_only) == [("exclusion.final_sale", "review", "line 1 'Item 1': marked final sale")]


def test_a_finding_is_a_value() -> None:
    finding = Finding("r", "d", "m")
    assert (finding.review, finding.offerable) == (False, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.review = True  # type: ignore[misc]


# windows -----------------------------------------------------------------------------------------------


def test_a_closed_window_names_the_line_and_a_request_without_lines_names_the_order() -> None:
    pol = policy(windows={"default": {"days": 2, "start": "delivery"}})
    lined = decide(pol, request([line("1", 2_000)]), History(), ASKED)
    [(rule, effect, detail)] = hits(lined)
    assert (rule, effect) == ("window.physical", "deny")
    assert detail.startswith("line 1 'Item 1': physical window 2 days from delivery")
    assert "The 2-day refund window for “Item 1” ended on 8 March 2025." in lined.explanation
    bare = decide(pol, request([], amount=3_000), History(), ASKED)
    [(rule, effect, detail)] = hits(bare)
    assert (rule, effect) == ("window.default", "deny")
    assert detail.startswith("the order: default window 2 days from delivery")
    assert "The 2-day refund window for this order ended on 8 March 2025." in bare.explanation


def test_a_window_of_no_days_is_a_same_day_window() -> None:
    decision = decide(policy(windows={"default": {"days": 0, "start": "delivery"}}), request(), History(), ASKED)
    assert "The same-day refund window for “Item 1” ended on 6 March 2025." in decision.explanation


def test_the_alternative_for_a_closed_window_ends_exactly_within_days_after_it_closed() -> None:
    pol = policy(
        windows={"default": {"days": 2, "start": "delivery"}},
        alternatives={"offer": "store_credit", "instead_of": ["window"], "within_days": 1},
    )
    closes = datetime(2025, 3, 9, tzinfo=UTC)  # the midnight that ends 8 March, two days after delivery
    for at, action in (
        (closes + timedelta(days=1) - timedelta(seconds=1), "offer_alternative"),
        (closes + timedelta(days=1), "deny"),
    ):
        assert decide(pol, request(asked=at), History(), at).action == action


def test_a_window_counted_from_an_earlier_event_is_noted_once_per_kind() -> None:
    pol = policy(windows={"default": {"days": 2, "start": "delivery"}})
    built = request([line("1", 2_000), line("2", 1_000), digital("3"), line("4", 500, kind="service")], delivered=None)
    decision = decide(pol, built, History(), ASKED)
    noted = [h.rule for h in decision.rules if h.rule.startswith("unknown.window.")]
    assert noted == ["unknown.window.physical", "unknown.window.digital", "unknown.window.service"]
    bare = decide(pol, request([], amount=3_000, delivered=None), History(), ASKED)
    assert [h.rule for h in bare.rules if h.rule.startswith("unknown.window.")] == ["unknown.window.default"]


# digital goods -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "words"),
    [
        ({"downloads": 2}, "downloaded 2 time(s), more than 1"),
        ({"activations": 3}, "licence activated 3 time(s)"),
        ({"accessed": True}, "streamed or accessed"),
        ({"downloads": 5, "activations": 1, "accessed": True}, "downloaded 5 time(s), more than 1, "
         "licence activated 1 time(s), streamed or accessed"),
    ],
)  # fmt: skip
def test_each_sign_of_use_is_named_in_the_lines_finding(usage: dict[str, Any], words: str) -> None:
    pol = policy(digital={"when_used": "deny", "max_downloads": 1})
    decision = decide(pol, request([digital("1", **usage), line("2")]), History(), ASKED)
    assert hits(decision) == [("digital.used", "reduce", f"line 1 'Track 1': {words}")]


def test_no_sign_of_use_within_the_limits() -> None:
    pol = policy(digital={"when_used": "deny", "max_downloads": 1})
    usage = {"downloads": 1, "activations": 0, "accessed": False}
    assert decide(pol, request([digital("1", **usage)]), History(), ASKED).action == "approve"
