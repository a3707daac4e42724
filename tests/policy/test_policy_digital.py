"""Digital goods are judged per line: a partly used bundle refunds its unused lines exactly."""

from __future__ import annotations

from policy_factory import ASKED, digital, line, policy, request

from hub.policy import History, decide

DENY_USED = {"digital": {"when_used": "deny", "max_downloads": 0}}


def test_partially_used_bundle_refunds_the_unused_lines() -> None:
    bundle = [digital("1", downloads=1), digital("2", downloads=0), digital("3", downloads=0, activations=0)]
    decision = decide(policy(**DENY_USED), request(bundle), History(), ASKED)
    assert decision.action == "approve_partial"
    assert decision.amount == 2_000
    assert decision.line_amounts == (("1", 0), ("2", 1_000), ("3", 1_000))
    assert [(h.rule, h.effect) for h in decision.rules][0] == ("digital.used", "reduce")
    assert "“Track 1” has already been downloaded or used." in decision.explanation
    assert decision.explanation.startswith("We are refunding 20.00 USD of the 30.00 USD you asked for.")


def test_discounted_bundle_is_split_with_exact_rounding() -> None:
    # 25.00 asked for three 10.00 tracks: shares 8.34 / 8.33 / 8.33, the used first one is dropped
    bundle = [digital("1", downloads=2), digital("2", downloads=0), digital("3", downloads=0)]
    decision = decide(policy(**DENY_USED), request(bundle, amount=2_500), History(), ASKED)
    assert decision.line_amounts == (("1", 0), ("2", 833), ("3", 833))
    assert decision.amount == 1_666


def test_fully_used_bundle_is_denied() -> None:
    bundle = [digital("1", downloads=1), digital("2", accessed=True)]
    decision = decide(policy(**DENY_USED), request(bundle), History(), ASKED)
    assert (decision.action, decision.amount, decision.line_amounts) == ("deny", 0, ())
    assert {h.effect for h in decision.rules if h.rule == "digital.used"} == {"deny"}


def test_fully_used_bundle_can_become_store_credit() -> None:
    pol = policy(**DENY_USED, alternatives={"offer": "store_credit", "instead_of": ["digital_used"]})
    decision = decide(pol, request([digital("1", downloads=1)]), History(), ASKED)
    assert (decision.action, decision.alternative, decision.amount) == ("offer_alternative", "store_credit", 1_000)
    assert "store credit worth 10.00 USD" in decision.explanation


def test_usage_review_holds_the_whole_request() -> None:
    decision = decide(policy(), request([digital("1", downloads=1), digital("2", downloads=0)]), History(), ASKED)
    assert decision.action == "review"
    assert decision.amount == 2_000  # what approval would pay


def test_mixed_order_keeps_physical_lines_and_shipping() -> None:
    built = request([line("1", 4_000), digital("2", activations=2)], shipping=500)
    decision = decide(policy(**DENY_USED), built, History(), ASKED)
    assert decision.action == "approve_partial"
    assert decision.line_amounts == (("1", 4_000), ("2", 0))
    assert decision.amount == 4_500  # shipping rides along: amount − Σ line_amounts


def test_downloads_are_ignored_when_switched_off() -> None:
    pol = policy(digital={"when_used": "deny", "max_downloads": False, "activations": False, "accessed": False})
    decision = decide(pol, request([digital("1", downloads=9, activations=3, accessed=True)]), History(), ASKED)
    assert decision.action == "approve"
