"""A rule that cannot be judged for want of an input says so in the decision, never silently."""

from __future__ import annotations

from datetime import timedelta

from policy_factory import ASKED, T0, digital, history, line, policy, prior, request

from hub.policy import DEFAULT_POLICY, History, decide

RATIO = {"abuse": {"ratio": {"max": 0.5, "min_orders": 1}}}


def unknowns(decision: object) -> dict[str, str]:
    return {h.rule: h.detail for h in decision.rules if h.rule.startswith("unknown.")}  # type: ignore[attr-defined]


def test_ratio_without_an_order_count_is_named_in_the_explanation() -> None:
    decision = decide(policy(**RATIO), request(), history(prior(3)), ASKED)
    assert decision.action == "approve"
    assert "sandbox store does not report this customer's order count" in unknowns(decision)["unknown.abuse.ratio"]
    assert decision.explanation.endswith(
        "We could not compare your refunds with your orders: the store does not tell us how many orders you placed."
    )


def test_ratio_with_an_order_count_is_evaluated_and_not_called_unknown() -> None:
    decision = decide(policy(**RATIO), request(), history(prior(3), customer_order_count=1), ASKED)
    assert decision.action == "review"
    assert "abuse.ratio" in [h.rule for h in decision.rules]
    assert unknowns(decision) == {}
    assert "could not" not in decision.explanation


def test_ratio_of_an_anonymous_request_is_unknown() -> None:
    decision = decide(policy(**RATIO), request(customer_id=None, email=None), History(customer_order_count=9), ASKED)
    assert "names no customer id or e-mail" in unknowns(decision)["unknown.abuse.ratio"]


def test_velocity_without_the_identity_it_counts_by() -> None:
    pol = policy(abuse={"velocity": [{"by": "email", "max": 1, "days": 30}]})
    decision = decide(pol, request(email=None), History(), ASKED)
    assert "unknown.abuse.velocity.email" in unknowns(decision)
    assert "earlier refunds by the same e-mail address" in decision.explanation


def test_cel_rule_guarded_by_has_says_it_could_not_be_checked() -> None:
    when = "has(history.order_count) && history.order_count < 2"
    pol = policy(rules=[{"name": "new", "when": when, "effect": "review"}])
    silent = decide(pol, request(), History(), ASKED)
    assert silent.action == "approve"
    said = unknowns(silent)["unknown.custom.new"]
    assert said == f"not evaluated: reads order_count, unknown for this request: {when}"
    assert "it needs how many orders you placed, which the store does not report" in silent.explanation

    known = decide(pol, request(), History(customer_order_count=1), ASKED)
    assert known.action == "review"
    assert unknowns(known) == {}


def test_cel_rule_that_fires_on_other_facts_is_not_called_unknown() -> None:
    pol = policy(rules=[{"name": "old", "when": "facts.days_since_order > 1", "effect": "review"}])
    decision = decide(pol, request(delivered=None), History(), ASKED)
    assert decision.action == "review"
    assert unknowns(decision) == {}


def test_delivery_window_counted_from_fulfilment_is_noted_only_when_it_closed() -> None:
    pol = policy(windows={"default": {"days": 5, "start": "delivery"}})
    open_anyway = decide(pol, request(delivered=None, asked=T0 + timedelta(days=3)), History(), T0 + timedelta(days=3))
    assert open_anyway.action == "approve"
    assert unknowns(open_anyway) == {}

    closed = decide(pol, request(delivered=None), History(), ASKED)
    assert closed.action == "deny"
    assert unknowns(closed)["unknown.window.physical"].startswith("not evaluated: physical window counted from")
    assert "counted from the fulfilment date because the delivery date is not known" in closed.explanation


def test_unknown_digital_usage_is_named_per_signal_and_approved_by_default() -> None:
    decision = decide(DEFAULT_POLICY, request([digital("1", downloads=0), line("2")]), History(), ASKED)
    assert decision.action == "approve"
    assert set(unknowns(decision)) == {"unknown.digital.activations", "unknown.digital.accessed"}
    assert (
        "We could not check the licence activations or access of “Track 1”: the store does not" in decision.explanation
    )


def test_unknown_usage_sent_to_review_says_why() -> None:
    pol = policy(digital={"when_unknown": "review"})
    decision = decide(pol, request([digital("1")]), History(), ASKED)
    assert decision.action == "review"
    assert "so a person will look" in decision.explanation
    assert set(unknowns(decision)) == {
        "unknown.digital.downloads",
        "unknown.digital.activations",
        "unknown.digital.accessed",
    }


def test_a_used_line_needs_no_word_about_its_other_signals() -> None:
    pol = policy(digital={"when_used": "deny"})
    decision = decide(pol, request([digital("1", downloads=3), line("2")]), History(), ASKED)
    assert decision.action == "approve_partial"
    assert unknowns(decision) == {}


def test_signals_switched_off_are_never_unknown() -> None:
    pol = policy(digital={"max_downloads": False, "activations": False, "accessed": False, "when_unknown": "review"})
    decision = decide(pol, request([digital("1")]), History(), ASKED)
    assert decision.action == "approve"
    assert unknowns(decision) == {}
