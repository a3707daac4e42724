"""Decisions survive the audit trail as JSON, and a dispute opened later changes a re-decision."""

from __future__ import annotations

import json
from datetime import timedelta

from policy_factory import ASKED, digital, line, policy, request

from hub.policy import DEFAULT_POLICY, Decision, History, RuleHit, decide


def test_round_trip_through_json() -> None:
    pol = policy(digital={"when_used": "deny"}, fees=[{"name": "restocking", "percent": 15}])
    decision = decide(pol, request([line("1", 1_999), digital("2", downloads=4)], shipping=300), History(), ASKED)
    stored = json.loads(json.dumps(decision.to_dict()))
    assert Decision.from_dict(stored) == decision
    assert stored["line_amounts"] == [["1", 1_699], ["2", 0]]
    assert all(set(hit) == {"rule", "effect", "detail"} for hit in stored["rules"])


def test_refund_amount_only_for_approvals() -> None:
    hit = RuleHit("x", "review", "d")
    assert Decision("review", 500, (hit,), "e", "v").refund_amount == 0
    assert Decision("approve_partial", 500, (hit,), "e", "v").refund_amount == 500
    assert Decision("offer_alternative", 500, (hit,), "e", "v", alternative="exchange").refund_amount == 0


def test_dispute_opened_after_the_first_decision() -> None:
    built = request()
    first = decide(DEFAULT_POLICY, built, History(), ASKED)
    assert first.action == "approve"
    later = ASKED + timedelta(days=2)
    again = decide(DEFAULT_POLICY, built, History(payment_disputed=True), later)
    assert (again.action, again.amount) == ("deny", 0)
    assert again.rules[0].rule == "hard.dispute"
    assert "disputed" in again.explanation
    held = decide(policy(hard={"dispute": "review"}), built, History(payment_disputed=True), later)
    assert held.action == "review"


def test_decide_is_pure_and_repeatable() -> None:
    built = request([line("1", 1_001), line("2", 1_002, final_sale=True)], shipping=99)
    first = decide(DEFAULT_POLICY, built, History(), ASKED)
    assert all(decide(DEFAULT_POLICY, built, History(), ASKED) == first for _ in range(3))


def test_every_decision_lists_a_reason() -> None:
    decision = decide(DEFAULT_POLICY, request(), History(), ASKED)
    assert decision.rules == (
        RuleHit("amount.auto_approve", "approve", "20.00 USD is within the auto-approve limit 500.00 USD"),
    )
    assert decision.explanation == "Your refund of 20.00 USD is approved."
