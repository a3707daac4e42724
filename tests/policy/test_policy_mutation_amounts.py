"""hub.policy.amounts at its edges, as docs/policy.md describes the money side: shipping modes,
fee wording and units, a cap or threshold met exactly (only *above* it counts), the customer
cap's window and identities, and the words the customer and the merchant read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from policy_factory import ASKED, history, line, policy, prior, request

from hub.policy import Decision, History, decide


def decision(pol: dict[str, Any], hist: History | None = None, **req: Any) -> Decision:
    return decide(policy(**pol), request(**req), hist or History(), req.get("asked", ASKED))


def details(d: Decision) -> dict[str, str]:
    return {r.rule: r.detail for r in d.rules}


def effects(d: Decision) -> dict[str, str]:
    return {r.rule: r.effect for r in d.rules}


# ── shipping ────────────────────────────────────────────────────────────────────────────────────


def test_shipping_always_refunded_whatever_the_reason() -> None:
    d = decision({"shipping": {"refund": "always"}}, shipping=500, reason="changed_mind")
    assert (d.action, d.amount) == ("approve", 2_500)
    assert "shipping.not_refunded" not in effects(d)


def test_shipping_never_refunded_says_so() -> None:
    d = decision({"shipping": {"refund": "never"}}, shipping=500, reason="damaged")  # even the store's fault
    assert (d.action, d.amount) == ("approve_partial", 2_000)
    assert details(d)["shipping.not_refunded"] == "shipping 5.00 USD never refunded"
    assert "Original shipping (5.00 USD) is not refundable." in d.explanation


def test_shipping_on_merchant_fault_names_the_reason() -> None:
    d = decision({"shipping": {"refund": "merchant_fault"}}, shipping=500, reason="changed_mind")
    assert details(d)["shipping.not_refunded"] == (
        "shipping 5.00 USD refunded only when the reason is the store's fault, not changed_mind"
    )
    assert decision({"shipping": {"refund": "merchant_fault"}}, shipping=500, reason="damaged").amount == 2_500


# ── fees ────────────────────────────────────────────────────────────────────────────────────────


def test_a_fixed_fee_per_refund_is_charged_once() -> None:
    d = decision({"fees": [{"name": "handling", "fixed": 2.5}]}, lines=[line("1", 1_000, quantity=3)])
    assert d.amount == 3_000 - 250
    assert details(d)["fee.handling"] == "handling fee 2.50 USD = 2.50 USD deducted"
    assert "A handling fee of 2.50 USD was deducted." in d.explanation


def test_a_fixed_fee_per_unit_is_charged_per_unit() -> None:
    d = decision({"fees": [{"name": "handling", "fixed": 2.5, "per": "unit"}]}, lines=[line("1", 1_000, quantity=3)])
    assert d.amount == 3_000 - 750
    assert details(d)["fee.handling"] == "handling fee 2.50 USD per unit = 7.50 USD deducted"


def test_a_percent_fee_alone_names_only_the_percent() -> None:
    d = decision({"fees": [{"name": "restocking", "percent": 10}]})
    assert details(d)["fee.restocking"] == "restocking fee 10% of 20.00 USD = 2.00 USD deducted"


def test_percent_and_fixed_fee_are_joined_with_a_plus() -> None:
    d = decision({"fees": [{"name": "restocking", "percent": 10, "fixed": 2.5}]})
    assert d.amount == 2_000 - 200 - 250
    assert details(d)["fee.restocking"] == "restocking fee 10% of 20.00 USD + 2.50 USD = 4.50 USD deducted"


def test_a_fee_is_split_over_the_lines_it_applies_to_and_adds_up() -> None:
    d = decision(
        {"fees": [{"name": "restocking", "percent": 10}]},
        lines=[line("1", 1_001), line("2", 1_000), line("3", 999)],
    )
    assert d.amount == 3_000 - 300
    assert sum(amount for _, amount in d.line_amounts) == d.amount


# ── caps and the review threshold: only *above* the limit counts ────────────────────────────────


def test_a_refund_of_exactly_the_per_refund_cap_passes() -> None:
    d = decision({"amounts": {"max_per_refund": 20, "cap_effect": "deny"}})
    assert (d.action, d.amount) == ("approve", 2_000)
    assert "amount.max_per_refund" not in effects(d)


def test_one_unit_above_the_cap_is_denied_with_the_customer_told_why() -> None:
    d = decision({"amounts": {"max_per_refund": 19.99, "cap_effect": "deny"}})
    assert d.action == "deny"
    assert details(d)["amount.max_per_refund"] == "20.00 USD is above the per-refund cap 19.99 USD"
    assert "Refunds are limited to 19.99 USD per request." in d.explanation


def test_a_cap_sending_to_review_tells_the_customer_nothing_of_the_cap() -> None:
    d = decision({"amounts": {"max_per_refund": 19.99, "cap_effect": "review"}})
    assert effects(d)["amount.max_per_refund"] == "review"
    assert d.explanation == "Your request needs a review by our team before we refund it; we will get back to you soon."


def test_a_cap_reduced_to_a_single_unit_is_still_a_reduction() -> None:
    d = decision({"amounts": {"max_per_refund": 0.01, "cap_effect": "reduce"}})
    assert (d.action, d.amount) == ("approve_partial", 1)
    assert details(d)["amount.max_per_refund"] == "20.00 USD is above the per-refund cap 0.01 USD: reduced to 0.01 USD"


def test_exactly_the_review_threshold_is_auto_approved() -> None:
    at = decision({"amounts": {"review_above": 20}})
    assert (at.action, effects(at)) == ("approve", {"amount.auto_approve": "approve"})
    assert details(at)["amount.auto_approve"] == "20.00 USD is within the auto-approve limit 20.00 USD"
    above = decision({"amounts": {"review_above": 19.99}})
    assert above.action == "review"
    assert details(above)["amount.review"] == "20.00 USD is above the review threshold 19.99 USD"


# ── the customer cap ────────────────────────────────────────────────────────────────────────────

CAP = {"amount": 50, "days": 30, "effect": "deny"}


def test_reaching_the_customer_cap_exactly_passes() -> None:
    d = decision({"amounts": {"customer_cap": CAP}}, history(prior(3, amount=3_000)))
    assert d.action == "approve"
    over = decision({"amounts": {"customer_cap": CAP}}, history(prior(3, amount=3_001)))
    assert over.action == "deny"


def test_the_customer_cap_counts_only_refunds_within_its_days() -> None:
    pol = {"amounts": {"customer_cap": CAP}}
    just_inside = prior(30 - 1 / 86_400, amount=4_000)  # one second inside the 30 days
    on_the_edge = prior(30, amount=4_000)  # exactly 30 days ago: outside
    assert decision(pol, history(just_inside)).action == "deny"
    assert decision(pol, history(on_the_edge)).action == "approve"


def test_a_request_without_the_capped_identity_is_not_capped() -> None:
    pol = {"amounts": {"customer_cap": {**CAP, "by": "email"}}}
    assert decision(pol, history(prior(3, amount=4_000)), email=None).action == "approve"
    assert decision(pol, history(prior(3, amount=4_000))).action == "deny"
    alone_above = [line("1", 6_000)]  # above the cap on its own: still not capped without an email
    assert decision(pol, lines=alone_above, email=None).action == "approve"
    assert decision(pol, lines=alone_above).action == "deny"


@pytest.mark.parametrize(
    ("by", "words"),
    [
        ("customer", "per customer"),
        ("email", "per customer"),
        ("any", "per customer"),
        ("payment", "per payment method"),
    ],
)
def test_the_customer_cap_message_names_what_is_capped(by: str, words: str) -> None:
    d = decision({"amounts": {"customer_cap": {**CAP, "by": by}}}, history(prior(3, amount=4_000)))
    assert d.action == "deny"
    assert f"Refunds are limited to 50.00 USD {words} every 30 days." in d.explanation
    assert details(d)["amount.customer_cap"] == (
        f"40.00 USD already refunded to this {by} within 30 days + 20.00 USD is above the cap 50.00 USD"
    )


def test_a_customer_cap_already_used_up_reduces_to_a_denial() -> None:
    d = decision({"amounts": {"customer_cap": {**CAP, "effect": "reduce"}}}, history(prior(3, amount=5_000)))
    assert d.action == "deny"
    assert effects(d)["amount.customer_cap"] == "deny"
    left = decision(
        {"amounts": {"customer_cap": {**CAP, "effect": "reduce"}}},
        history(prior(3, amount=4_500)),
        asked=ASKED + timedelta(seconds=1),
    )
    assert (left.action, left.amount) == ("approve_partial", 500)
