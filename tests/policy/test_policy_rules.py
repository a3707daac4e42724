"""Every rule, alone and combined: one table of (policy, request, history) → decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from policy_factory import DELIVERED, T0, digital, history, line, policy, prior, request

from hub.policy import DEFAULT_POLICY, History, decide

D = timedelta(days=1)
SECOND = timedelta(seconds=1)
NY = {"timezone": "America/New_York"}
NY_CLOSES = datetime(2025, 4, 6, 4, 0, tzinfo=UTC)  # delivered 6 March 10:00 EST; day 30 ends 6 April 00:00 EDT
DIGITAL_14 = {"windows": {"digital": {"days": 14, "start": "payment"}}}
DIGITAL_CLOSES = datetime(2025, 3, 18, 0, 0, tzinfo=UTC)  # paid 3 March 15:00 UTC; day 14 is 17 March
SERVICE_EXACT = {"windows": {"mode": "exact", "service": {"days": 7, "start": "order"}}}
DENY_USED = {"digital": {"when_used": "deny"}}
OFFER = {"alternatives": {"offer": "store_credit", "instead_of": ["window"]}}
VIP = {
    "rules": [
        {
            "name": "vip",
            "when": "has(history.order_count) && history.order_count >= 10",
            "effect": "approve",
            "message": "Thanks for being a loyal customer.",
        }
    ]
}


def case(
    id: str,
    pol: dict[str, Any] | None,
    req: dict[str, Any],
    action: str,
    amount: int,
    rules: dict[str, str],
    hist: History | None = None,
) -> Any:
    return pytest.param(pol, req, hist or History(), action, amount, rules, id=id)


CASES = [
    # --- windows -----------------------------------------------------------------------------
    case("in-window", None, {}, "approve", 2_000, {"amount.auto_approve": "approve"}),
    case("out-of-window", None, {"asked": DELIVERED + 31 * D}, "deny", 0, {"window.physical": "deny"}),
    case(
        "window-falls-back-to-fulfilment",
        None,
        {"delivered": None, "asked": T0 + D + 31 * D},
        "deny",
        0,
        {"window.physical": "deny"},
    ),
    case("fallback-still-inside", None, {"delivered": None, "asked": T0 + D + 29 * D}, "approve", 2_000, {}),
    case(
        "grace-days-inside",
        {"windows": {"default": {"grace_days": 2}}},
        {"asked": DELIVERED + 32 * D},
        "approve",
        2_000,
        {},
    ),
    case(
        "grace-days-outside",
        {"windows": {"default": {"grace_days": 2}}},
        {"asked": DELIVERED + 33 * D},
        "deny",
        0,
        {"window.physical": "deny"},
    ),
    case(
        "no-time-limit", {"windows": {"default": {"days": False}}}, {"asked": DELIVERED + 400 * D}, "approve", 2_000, {}
    ),
    case(
        "window-from-order",
        {"windows": {"physical": {"start": "order", "days": 5}}},
        {"asked": T0 + 6 * D},
        "deny",
        0,
        {"window.physical": "deny"},
    ),
    case(
        "digital-window-separate",
        {"windows": {"digital": {"days": 7, "start": "payment"}}},
        {"lines": [line("1"), digital("2")], "asked": T0 + 9 * D},
        "approve_partial",
        2_000,
        {"window.digital": "reduce"},
    ),
    case(
        "order-without-lines",
        None,
        {"lines": [], "amount": 700, "asked": DELIVERED + 31 * D},
        "deny",
        0,
        {"window.default": "deny"},
    ),
    # the last second of each kind's window, in the merchant's zone or exactly
    case("physical-last-second-new-york", NY, {"asked": NY_CLOSES - SECOND}, "approve", 2_000, {}),
    case("physical-closed-new-york", NY, {"asked": NY_CLOSES}, "deny", 0, {"window.physical": "deny"}),
    case(
        "digital-last-second",
        DIGITAL_14,
        {"lines": [digital("1", downloads=0)], "asked": DIGITAL_CLOSES - SECOND},
        "approve",
        1_000,
        {},
    ),
    case(
        "digital-closed",
        DIGITAL_14,
        {"lines": [digital("1", downloads=0)], "asked": DIGITAL_CLOSES},
        "deny",
        0,
        {"window.digital": "deny"},
    ),
    case(
        "service-exact-last-second",
        SERVICE_EXACT,
        {"lines": [line("1", kind="service")], "asked": T0 + 7 * D - SECOND},
        "approve",
        2_000,
        {},
    ),
    case(
        "service-exact-closed",
        SERVICE_EXACT,
        {"lines": [line("1", kind="service")], "asked": T0 + 7 * D},
        "deny",
        0,
        {"window.service": "deny"},
    ),
    # --- digital goods -----------------------------------------------------------------------
    case(
        "digital-used-reviewed-by-default",
        None,
        {"lines": [digital("1", downloads=2)]},
        "review",
        1_000,
        {"digital.used": "review"},
    ),
    case("digital-unused", None, {"lines": [digital("1", downloads=0, activations=0)]}, "approve", 1_000, {}),
    case(
        "digital-licence-activated",
        {"digital": {"when_used": "deny"}},
        {"lines": [digital("1", activations=1)]},
        "deny",
        0,
        {"digital.used": "deny"},
    ),
    case(
        "digital-streamed",
        {"digital": {"when_used": "deny"}},
        {"lines": [digital("1", accessed=True)]},
        "deny",
        0,
        {"digital.used": "deny"},
    ),
    case(
        "digital-downloads-allowed",
        {"digital": {"max_downloads": 3}},
        {"lines": [digital("1", downloads=3)]},
        "approve",
        1_000,
        {},
    ),
    case(
        "digital-usage-unknown-review",
        {"digital": {"when_unknown": "review"}},
        {"lines": [digital("1")]},
        "review",
        1_000,
        {"digital.unknown_usage": "review"},
    ),
    case(
        "bundle-partly-used",
        DENY_USED,
        {"lines": [digital("1", downloads=1), digital("2", downloads=0), digital("3", activations=0)]},
        "approve_partial",
        2_000,
        {"digital.used": "reduce"},
    ),
    case(
        "bundle-fully-used",
        DENY_USED,
        {"lines": [digital("1", downloads=1), digital("2", activations=2)]},
        "deny",
        0,
        {"digital.used": "deny"},
    ),
    # --- exclusions --------------------------------------------------------------------------
    case(
        "final-sale-only-line",
        None,
        {"lines": [line("1", final_sale=True)]},
        "deny",
        0,
        {"exclusion.final_sale": "deny"},
    ),
    case(
        "final-sale-but-defective",
        None,
        {"lines": [line("1", final_sale=True)], "reason": "defective"},
        "review",
        2_000,
        {"exclusion.final_sale": "review"},
    ),
    case(
        "final-sale-partial",
        None,
        {"lines": [line("1"), line("2", 3_000, final_sale=True)]},
        "approve_partial",
        2_000,
        {"exclusion.final_sale": "reduce"},
    ),
    case(
        "final-sale-rule-off",
        {"exclusions": {"final_sale": False}},
        {"lines": [line("1", final_sale=True)]},
        "approve",
        2_000,
        {},
    ),
    case(
        "sku-glob",
        {"exclusions": {"skus": ["CLEAR-*"]}},
        {"lines": [line("1", sku="clear-42"), line("2")]},
        "approve_partial",
        2_000,
        {"exclusion.sku": "reduce"},
    ),
    case(
        "tag-case-insensitive",
        {"exclusions": {"tags": ["collection:outlet"]}},
        {"lines": [line("1", tags=("Collection:Outlet",))]},
        "deny",
        0,
        {"exclusion.tag": "deny"},
    ),
    case(
        "gift-card-even-if-defective",
        None,
        {"lines": [line("1", kind="gift_card")], "reason": "defective"},
        "deny",
        0,
        {"exclusion.gift_card": "deny"},
    ),
    case(
        "kind-excluded",
        {"exclusions": {"kinds": ["service"]}},
        {"lines": [line("1", kind="service")]},
        "deny",
        0,
        {"exclusion.kind": "deny"},
    ),
    case(
        "exclusion-effect-review",
        {"exclusions": {"effect": "review"}},
        {"lines": [line("1", final_sale=True)]},
        "review",
        2_000,
        {"exclusion.final_sale": "review"},
    ),
    # --- amounts -----------------------------------------------------------------------------
    case("above-review-threshold", {"amounts": {"review_above": 10}}, {}, "review", 2_000, {"amount.review": "review"}),
    case(
        "threshold-per-currency",
        {"amounts": {"review_above": {"default": 10, "JPY": 5000}}},
        {"currency": "JPY", "lines": [line("1", 4_000)]},
        "approve",
        4_000,
        {"amount.auto_approve": "approve"},
    ),
    case("threshold-off", {"amounts": {"review_above": False}}, {"lines": [line("1", 10**7)]}, "approve", 10**7, {}),
    case(
        "cap-reduces",
        {"amounts": {"max_per_refund": 15, "cap_effect": "reduce"}},
        {"lines": [line("1", 1_000), line("2", 1_000)], "shipping": 500},
        "approve_partial",
        1_500,
        {"amount.max_per_refund": "reduce"},
    ),
    case(
        "cap-denies",
        {"amounts": {"max_per_refund": 15, "cap_effect": "deny"}},
        {},
        "deny",
        0,
        {"amount.max_per_refund": "deny"},
    ),
    case(
        "cap-reviews-by-default",
        {"amounts": {"max_per_refund": 15}},
        {},
        "review",
        2_000,
        {"amount.max_per_refund": "review"},
    ),
    case(
        "customer-cap-review",
        {"amounts": {"customer_cap": {"amount": 50, "days": 30}}},
        {},
        "review",
        2_000,
        {"amount.customer_cap": "review"},
        history(prior(3, amount=2_000), prior(10, amount=1_500), prior(40, amount=9_000)),
    ),
    case(
        "customer-cap-reduce",
        {"amounts": {"customer_cap": {"amount": 50, "days": 30, "effect": "reduce"}}},
        {},
        "approve_partial",
        1_500,
        {"amount.customer_cap": "reduce"},
        history(prior(3, amount=2_000), prior(10, amount=1_500), prior(5, amount=7_000, currency="EUR")),
    ),
    case(
        "customer-cap-used-up",
        {"amounts": {"customer_cap": {"amount": 50, "days": 30, "effect": "reduce"}}},
        {},
        "deny",
        0,
        {"amount.customer_cap": "deny"},
        history(prior(3, amount=5_000)),
    ),
    case(
        "customer-cap-ignores-failed",
        {"amounts": {"customer_cap": {"amount": 50}}},
        {},
        "approve",
        2_000,
        {},
        history(prior(3, amount=5_000, state="failed")),
    ),
    case(
        "restocking-percent",
        {"fees": [{"name": "restocking", "percent": 10}]},
        {"lines": [line("1", 2_005)]},
        "approve_partial",
        1_804,
        {"fee.restocking": "reduce"},
    ),
    case(
        "fee-waived-when-damaged",
        {"fees": [{"name": "restocking", "percent": 10}]},
        {"reason": "damaged"},
        "approve",
        2_000,
        {},
    ),
    case(
        "fixed-fee-per-unit",
        {"fees": [{"name": "handling", "fixed": 1.5, "per": "unit"}]},
        {"lines": [line("1", 1_000, quantity=2)]},
        "approve_partial",
        1_700,
        {"fee.handling": "reduce"},
    ),
    case(
        "fee-only-on-its-kinds",
        {"fees": [{"name": "restocking", "percent": 50}]},
        {"lines": [digital("1", downloads=0)]},
        "approve",
        1_000,
        {},
    ),
    case(
        "fee-eats-everything",
        {"fees": [{"name": "handling", "fixed": 50}]},
        {},
        "deny",
        0,
        {"fee.handling": "reduce", "amount.nothing_left": "deny"},
    ),
    case(
        "shipping-never",
        {"shipping": {"refund": "never"}},
        {"shipping": 500},
        "approve_partial",
        2_000,
        {"shipping.not_refunded": "reduce"},
    ),
    case(
        "shipping-merchant-fault-ok",
        {"shipping": {"refund": "merchant_fault"}},
        {"shipping": 500, "reason": "wrong_item"},
        "approve",
        2_500,
        {},
    ),
    case(
        "shipping-merchant-fault-no",
        {"shipping": {"refund": "merchant_fault"}},
        {"shipping": 500},
        "approve_partial",
        2_000,
        {"shipping.not_refunded": "reduce"},
    ),
    # --- abuse ---------------------------------------------------------------------------------
    case(
        "velocity-customer",
        {"abuse": {"velocity": [{"by": "customer", "max": 2, "days": 30}]}},
        {},
        "review",
        2_000,
        {"abuse.velocity.customer": "review"},
        history(prior(1), prior(20), prior(45)),
    ),
    case(
        "velocity-ignores-old-and-failed",
        {"abuse": {"velocity": [{"by": "customer", "max": 2, "days": 30}]}},
        {},
        "approve",
        2_000,
        {},
        history(prior(1), prior(20, state="failed"), prior(45)),
    ),
    case(
        "velocity-email-normalized",
        {"abuse": {"velocity": [{"by": "email", "max": 1, "hours": 24, "effect": "deny"}]}},
        {"customer_id": None},
        "deny",
        0,
        {"abuse.velocity.email": "deny"},
        history(prior(0.5, customer_id="other", email="Ann+promo@Example.com")),
    ),
    case(
        "velocity-payment",
        {"abuse": {"velocity": [{"by": "payment", "max": 1, "days": 7}]}},
        {},
        "review",
        2_000,
        {"abuse.velocity.payment": "review"},
        history(prior(2, customer_id="x", email="x@y.z", fingerprint="card-1")),
    ),
    case(
        "velocity-other-card-does-not-count",
        {"abuse": {"velocity": [{"by": "payment", "max": 1, "days": 7}]}},
        {},
        "approve",
        2_000,
        {},
        history(prior(2, fingerprint="card-2")),
    ),
    case(
        "ratio",
        {"abuse": {"ratio": {"max": 0.5, "min_orders": 3}}},
        {},
        "review",
        2_000,
        {"abuse.ratio": "review"},
        history(prior(5, order_id="a"), prior(6, order_id="a"), prior(7, order_id="b"), customer_order_count=4),
    ),
    case(
        "ratio-below",
        {"abuse": {"ratio": {"max": 0.5, "min_orders": 3}}},
        {},
        "approve",
        2_000,
        {},
        history(prior(5, order_id="a"), prior(6, order_id="a"), customer_order_count=4),
    ),
    case(
        "blocklist-email",
        {"abuse": {"blocklist": {"emails": ["ANN@example.com"]}}},
        {},
        "deny",
        0,
        {"abuse.blocklist": "deny"},
    ),
    case(
        "blocklist-domain-review",
        {"abuse": {"blocklist": {"emails": ["@example.com"], "effect": "review"}}},
        {},
        "review",
        2_000,
        {"abuse.blocklist": "review"},
    ),
    case(
        "allowlist-skips-velocity",
        {"abuse": {"allowlist": {"customers": ["cust-1"]}, "velocity": [{"max": 1, "days": 30}]}},
        {},
        "approve",
        2_000,
        {"abuse.allowlist": "info"},
        history(prior(1), prior(2)),
    ),
    case(
        "allowlist-not-hard-rules",
        {"abuse": {"allowlist": {"customers": ["cust-1"]}}},
        {},
        "deny",
        0,
        {"hard.dispute": "deny"},
        History(payment_disputed=True),
    ),
    case(
        "blocklist-beats-custom-approve",
        {"abuse": {"blocklist": {"customers": ["cust-1"]}}, **VIP},
        {},
        "deny",
        0,
        {"abuse.blocklist": "deny", "custom.vip": "approve"},
        History(customer_order_count=12),
    ),
    # --- hard rules ----------------------------------------------------------------------------
    case("dispute", None, {}, "deny", 0, {"hard.dispute": "deny"}, History(payment_disputed=True)),
    case(
        "dispute-review",
        {"hard": {"dispute": "review"}},
        {},
        "review",
        2_000,
        {"hard.dispute": "review"},
        History(payment_disputed=True),
    ),
    case(
        "dispute-beats-custom-approve",
        VIP,
        {},
        "deny",
        0,
        {"hard.dispute": "deny", "custom.vip": "approve"},
        History(payment_disputed=True, customer_order_count=50),
    ),
    case("currency-vs-order", None, {"order_currency": "EUR"}, "review", 2_000, {"hard.currency_mismatch": "review"}),
    case(
        "currency-vs-payment",
        {"hard": {"currency_mismatch": "deny"}},
        {"payment_currency": "EUR"},
        "deny",
        0,
        {"hard.currency_mismatch": "deny"},
    ),
    case(
        "presentment-currency-ok",
        None,
        {"currency": "EUR", "order_currency": "USD", "presentment": "EUR"},
        "approve",
        2_000,
        {},
    ),
    case(
        "currency-beats-custom-approve",
        VIP,
        {"order_currency": "EUR"},
        "review",
        2_000,
        {"hard.currency_mismatch": "review"},
        History(customer_order_count=50),
    ),
    case(
        "over-refundable",
        None,
        {"captured": 2_500, "refunded": 1_000},
        "review",
        2_000,
        {"hard.over_refundable": "review"},
    ),
    case("exactly-refundable", None, {"captured": 3_000, "refunded": 1_000}, "approve", 2_000, {}),
    # --- alternatives --------------------------------------------------------------------------
    case(
        "offer-instead-of-window-denial",
        OFFER,
        {"asked": DELIVERED + 40 * D},
        "offer_alternative",
        2_000,
        {"window.physical": "offer_alternative"},
    ),
    case(
        "offer-only-within-days",
        {"alternatives": {"offer": "exchange", "within_days": 5}},
        {"asked": DELIVERED + 36 * D},
        "deny",
        0,
        {"window.physical": "deny"},
    ),
    case(
        "offer-exchange-in-time",
        {"alternatives": {"offer": "exchange", "within_days": 5}},
        {"asked": DELIVERED + 34 * D},
        "offer_alternative",
        2_000,
        {"window.physical": "offer_alternative"},
    ),
    case(
        "final-sale-not-offered",
        OFFER,
        {"lines": [line("1", final_sale=True)]},
        "deny",
        0,
        {"exclusion.final_sale": "deny"},
    ),
    case(
        "mixed-window-partial-not-offer",
        {**OFFER, "windows": {"digital": {"days": 2, "start": "order"}}},
        {"lines": [line("1"), digital("2", downloads=0)]},
        "approve_partial",
        2_000,
        {"window.digital": "reduce"},
    ),
    case(
        "offer-loses-to-review",
        {**OFFER, "amounts": {"review_above": 5}},
        {"asked": DELIVERED + 40 * D},
        "review",
        2_000,
        {"window.physical": "offer_alternative", "amount.review": "review"},
    ),
    # --- custom rules --------------------------------------------------------------------------
    case(
        "custom-deny",
        {
            "rules": [
                {
                    "name": "no-big-changes",
                    "when": "request.reason == 'changed_mind' && request.amount > 1500",
                    "effect": "deny",
                    "message": "Change-of-mind refunds are limited to 15 USD.",
                }
            ]
        },
        {},
        "deny",
        0,
        {"custom.no-big-changes": "deny"},
    ),
    case(
        "custom-approve-waives-window",
        VIP,
        {"asked": DELIVERED + 90 * D},
        "approve",
        2_000,
        {"window.physical": "info", "custom.vip": "approve"},
        History(customer_order_count=10),
    ),
    case(
        "custom-approve-waives-fees",
        {**VIP, "fees": [{"name": "restocking", "percent": 10}]},
        {},
        "approve",
        2_000,
        {"fee.restocking": "info"},
        History(customer_order_count=10),
    ),
    case(
        "custom-approve-not-caps",
        {**VIP, "amounts": {"max_per_refund": 10, "cap_effect": "deny"}},
        {},
        "deny",
        0,
        {"amount.max_per_refund": "deny"},
        History(customer_order_count=10),
    ),
    case(
        "custom-not-firing",
        VIP,
        {"asked": DELIVERED + 90 * D},
        "deny",
        0,
        {"window.physical": "deny"},
        History(customer_order_count=2),
    ),
    case(
        "custom-review-with-facts",
        {
            "rules": [
                {
                    "name": "slow-return",
                    "when": "facts.days_since_delivery > 3 && !facts.merchant_fault",
                    "effect": "review",
                }
            ]
        },
        {},
        "review",
        2_000,
        {"custom.slow-return": "review"},
    ),
    case(
        "custom-rule-error-fails-safe",
        {
            "rules": [
                {"name": "email-domain", "when": "request.customer.email.endsWith('@corp.example')", "effect": "deny"}
            ]
        },
        {"email": None},
        "review",
        2_000,
        {"custom.email-domain": "review"},
    ),
    case(
        "custom-info-only",
        {"rules": [{"name": "tag-digital", "when": "request.lines.exists(l, l.kind == 'digital')", "effect": "info"}]},
        {"lines": [digital("1", downloads=0)]},
        "approve",
        1_000,
        {"custom.tag-digital": "info"},
    ),
    case(
        "custom-offer",
        {
            "alternatives": {"offer": "store_credit"},
            "rules": [{"name": "credit-first", "when": "history.customer_refunds >= 1", "effect": "offer_alternative"}],
        },
        {},
        "offer_alternative",
        2_000,
        {"custom.credit-first": "offer_alternative"},
        history(prior(3)),
    ),
    case(
        "custom-now-and-history",
        {
            "rules": [
                {
                    "name": "recent",
                    "when": "now - request.order.created_at > duration('168h') && history.refunds == 0",
                    "effect": "review",
                }
            ]
        },
        {},
        "review",
        2_000,
        {"custom.recent": "review"},
    ),
    # --- combinations --------------------------------------------------------------------------
    case(
        "deny-beats-review",
        {"hard": {"dispute": "review"}},
        {"lines": [line("1", final_sale=True)]},
        "deny",
        0,
        {"exclusion.final_sale": "deny", "hard.dispute": "review"},
        History(payment_disputed=True),
    ),
    case(
        "partial-plus-fee-plus-shipping",
        {"fees": [{"name": "restocking", "percent": 10}], "shipping": {"refund": "never"}},
        {"lines": [line("1", 1_000), line("2", 3_000, final_sale=True), line("3", 1_001)], "shipping": 700},
        "approve_partial",
        1_801,
        {"exclusion.final_sale": "reduce", "shipping.not_refunded": "reduce", "fee.restocking": "reduce"},
    ),
]


@pytest.mark.parametrize(("pol", "req", "hist", "action", "amount", "rules"), CASES)
def test_rule_table(
    pol: dict[str, Any] | None, req: dict[str, Any], hist: History, action: str, amount: int, rules: dict[str, str]
) -> None:
    chosen = DEFAULT_POLICY if pol is None else policy(**pol)
    built = request(**req)
    decision = decide(chosen, built, hist, built.requested_at)
    fired = {hit.rule: hit.effect for hit in decision.rules}
    assert (decision.action, decision.amount) == (action, amount), decision.rules
    for rule, effect in rules.items():
        assert fired.get(rule) == effect, fired
    assert decision.policy_version == chosen.version
    assert decision.explanation
    if action in ("approve", "approve_partial", "review", "offer_alternative") and decision.line_amounts:
        shipping = decision.amount - sum(amount for _, amount in decision.line_amounts)
        assert shipping >= 0
    if action == "deny":
        assert decision.line_amounts == ()
    if action == "offer_alternative":
        assert decision.alternative in ("store_credit", "exchange")
    else:
        assert decision.alternative is None
