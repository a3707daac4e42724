"""Stripe's own currency rules between hub minor units and API amounts (docs.stripe.com/currencies)."""

from __future__ import annotations

import pytest
import stripe

from gateways.stripe.transformers import AmountNotRepresentable, from_stripe_amount, to_stripe_amount
from hub.contracts import Outcome

# (currency, hub minor units, Stripe API amount)
CASES = [
    ("USD", 1999, 1999),  # two-decimal: cents
    ("JPY", 500, 500),  # zero-decimal: ¥500 is 500
    ("KWD", 1250, 1250),  # three-decimal, last digit 0
    ("HUF", 150000, 150000),  # two-decimal at Stripe for charges and refunds
    ("TWD", 1000, 1000),
    ("ISK", 5, 500),  # zero-decimal, but sent x100
    ("MGA", 500, 5),  # ISO says 2 decimals, Stripe says zero-decimal
]


@pytest.mark.parametrize(("currency", "minor", "api"), CASES)
def test_amounts_convert_both_ways(currency, minor, api):
    assert to_stripe_amount(minor, currency) == api
    assert from_stripe_amount(api, currency) == minor


@pytest.mark.parametrize(("currency", "minor"), [("KWD", 1255), ("BHD", 1), ("MGA", 550), ("XXX1", 1)])
def test_amounts_stripe_cannot_take_are_refused(currency, minor):
    with pytest.raises(AmountNotRepresentable):
        to_stripe_amount(minor, currency)


@pytest.mark.parametrize(
    ("currency", "captured", "refund"),
    [
        ("USD", 5000, 1999),
        ("JPY", 12000, 500),
        ("KWD", 10000, 1250),
        ("HUF", 900000, 150000),
    ],
)
def test_refund_through_the_simulator_in_each_currency(sim, gateway, execution, currency, captured, refund):
    pi = sim.create_payment(captured, currency)
    result = gateway.refund(execution(pi, refund, currency))
    assert result.outcome is Outcome.SUCCEEDED
    assert (result.amount, result.currency) == (refund, currency)
    sent = [r for r in sim.requests if r.method == "POST"][0]
    assert int(sent.params["amount"]) == to_stripe_amount(refund, currency)
    state = gateway.payment(pi)
    assert (state.captured, state.refunded, state.currency) == (captured, refund, currency)


def test_kwd_amount_not_ending_in_zero_fails_before_any_call(sim, gateway, execution):
    pi = sim.create_payment(10000, "KWD")
    result = gateway.refund(execution(pi, 1255, "KWD"))
    assert (result.outcome, result.code) == (Outcome.FAILED, "amount_not_representable")
    assert "multiples of 10" in result.message
    assert not sim.requests


def test_simulator_refuses_what_stripe_refuses(sim):
    """The same rule on the other side: a raw KWD amount not ending in 0 is a 400 at 'Stripe'."""

    pi = sim.create_payment(10000, "KWD")
    client = stripe.StripeClient(sim.api_key, base_addresses={"api": sim.url})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": pi, "amount": 1255})
    assert caught.value.code == "invalid_charge_amount_no_decimal_compatible"
