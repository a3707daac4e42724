"""The official squareup SDK, driven by SquareGateway, against the Square simulator: refunds and lookups."""

from __future__ import annotations

import pytest

from gateways.square import SquareGateway
from gateways.square.transformers import hub_refund_id_from_reason
from hub.contracts import Outcome
from hub.errors import ConfigError, PlatformError


def posted_refunds(sim):
    return [x for x in sim.exchanges if (x.method, x.path) == ("POST", "/v2/refunds")]


def test_full_refund_succeeds_and_is_counted(sim, gateway, make_execution):
    payment = sim.create_payment(2500, "USD")
    result = gateway.refund(make_execution(payment, 2500, full_refund=True))
    assert result.outcome is Outcome.SUCCEEDED
    assert (result.amount, result.currency, result.raw_status) == (2500, "USD", "COMPLETED")
    state = gateway.payment(payment)
    assert (state.captured, state.refunded) == (2500, 2500)
    assert [r.gateway_refund_id for r in state.refunds] == [result.gateway_refund_id]


def test_partial_refunds_add_up_until_the_balance_is_spent(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD")
    assert gateway.refund(make_execution(payment, 300)).outcome is Outcome.SUCCEEDED
    assert gateway.refund(make_execution(payment, 700)).outcome is Outcome.SUCCEEDED
    third = gateway.refund(make_execution(payment, 1))
    assert (third.outcome, third.code) == (Outcome.FAILED, "REFUND_AMOUNT_INVALID")
    assert gateway.payment(payment).refunded == 1000


def test_same_execution_twice_replays_the_first_refund(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD")
    execution = make_execution(payment, 400, order_id="1001", note="Damaged in transit")
    first = gateway.refund(execution)
    second = gateway.refund(execution)
    assert first.gateway_refund_id == second.gateway_refund_id
    assert len(sim.ledger.refunds_of(payment)) == 1
    bodies = [x.request for x in posted_refunds(sim)]
    assert bodies[0] == bodies[1]  # the body is a pure function of the execution
    assert bodies[0]["idempotency_key"] == execution.idempotency_key
    assert bodies[0]["reason"] == f"Order 1001: Damaged in transit [hub_refund_id={execution.hub_refund_id}]"


def test_key_reused_with_other_parameters_is_refused(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD")
    first = make_execution(payment, 400)
    assert gateway.refund(first).outcome is Outcome.SUCCEEDED
    changed = make_execution(payment, 500, idempotency_key=first.idempotency_key)
    result = gateway.refund(changed)
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "IDEMPOTENCY_KEY_REUSED")
    assert gateway.payment(payment).refunded == 400


def test_over_refund_is_declined_with_square_code_and_detail(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD")
    result = gateway.refund(make_execution(payment, 1001))
    assert (result.outcome, result.code) == (Outcome.FAILED, "REFUND_AMOUNT_INVALID")
    assert "greater than" in (result.message or "")
    assert gateway.payment(payment).refunded == 0


def test_a_hub_key_longer_than_45_characters_is_derived_stably(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD")
    execution = make_execution(payment, 100, idempotency_key="store-42:order-100200300:refund-request-77:attempt-key")
    first = gateway.refund(execution)
    second = gateway.refund(execution)
    assert first.outcome is Outcome.SUCCEEDED and first.gateway_refund_id == second.gateway_refund_id
    keys = {x.request["idempotency_key"] for x in posted_refunds(sim)}
    assert len(keys) == 1 and len(next(iter(keys))) <= 45


def test_long_note_is_cut_but_the_hub_marker_survives(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD")
    execution = make_execution(payment, 100, note="x" * 500)
    assert gateway.refund(execution).outcome is Outcome.SUCCEEDED
    reason = posted_refunds(sim)[0].request["reason"]
    assert len(reason) <= 192
    assert hub_refund_id_from_reason(reason) == execution.hub_refund_id


@pytest.mark.parametrize(
    ("currency", "captured", "refund"),
    [("JPY", 5000, 1200), ("KWD", 12345, 2005), ("HUF", 150000, 49950), ("USD", 1999, 1)],
)
def test_currencies_travel_in_square_smallest_units(sim, gateway, make_execution, currency, captured, refund):
    payment = sim.create_payment(captured, currency)
    result = gateway.refund(make_execution(payment, refund, currency.lower()))
    assert result.outcome is Outcome.SUCCEEDED
    assert posted_refunds(sim)[0].request["amount_money"] == {"amount": refund, "currency": currency}
    assert (result.amount, result.currency) == (refund, currency)
    state = gateway.payment(payment)
    assert (state.captured, state.refunded, state.currency) == (captured, refund, currency)


def test_wrong_currency_is_declined(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "JPY")
    result = gateway.refund(make_execution(payment, 100, "USD"))
    assert (result.outcome, result.code) == (Outcome.FAILED, "CURRENCY_MISMATCH")


def test_invalid_amount_fails_before_anything_is_sent(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD")
    result = gateway.refund(make_execution(payment, 0))
    assert (result.outcome, result.code) == (Outcome.FAILED, "invalid_request")
    assert posted_refunds(sim) == []


def test_200_with_errors_and_a_failed_refund_is_a_decline(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD")
    sim.declined_inline = 1
    result = gateway.refund(make_execution(payment, 400))
    assert (result.outcome, result.code, result.raw_status) == (Outcome.FAILED, "REFUND_DECLINED", "FAILED")
    assert result.gateway_refund_id
    assert posted_refunds(sim)[0].status == 200
    assert gateway.payment(payment).refunded == 0
    assert gateway.refund(make_execution(payment, 400)).outcome is Outcome.SUCCEEDED


def test_refund_while_another_is_pending_fails_with_square_code(sim, gateway, make_execution):
    sim.ledger.settle_after = 30  # stays pending for the whole test
    sim.block_while_pending = True
    payment = sim.create_payment(1000, "USD")
    assert gateway.refund(make_execution(payment, 100)).outcome is Outcome.PENDING
    result = gateway.refund(make_execution(payment, 100))
    assert (result.outcome, result.code) == (Outcome.FAILED, "REFUND_ALREADY_PENDING")
    assert gateway.payment(payment).refunded == 100  # the pending refund counts against the balance


def test_disputed_payment_is_not_refundable(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD")
    sim.ledger.payment(payment).disputed = True
    result = gateway.refund(make_execution(payment, 100))
    assert (result.outcome, result.code) == (Outcome.FAILED, "PAYMENT_NOT_REFUNDABLE_DUE_TO_DISPUTE")


def test_uncaptured_payment_is_not_refundable_and_reports_nothing_captured(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD", status="APPROVED")
    result = gateway.refund(make_execution(payment, 100))
    assert (result.outcome, result.code) == (Outcome.FAILED, "PAYMENT_NOT_REFUNDABLE")
    assert gateway.payment(payment).captured == 0


def test_bad_token_is_a_permanent_failure(sim, settings, make_execution):
    gateway = SquareGateway("square-main", {**settings, "access_token": "EAAA-wrong"})
    result = gateway.refund(make_execution(sim.create_payment(1000, "USD"), 100))
    assert (result.outcome, result.code) == (Outcome.FAILED, "UNAUTHORIZED")


def test_unknown_payment(sim, gateway, make_execution, lookup_for):
    execution = make_execution("no-such-payment", 100)
    result = gateway.refund(execution)
    assert (result.outcome, result.code) == (Outcome.FAILED, "NOT_FOUND")
    assert gateway.get_refund(lookup_for(execution)) is None
    with pytest.raises(PlatformError):
        gateway.payment("no-such-payment")


def test_get_refund_by_gateway_id_and_by_hub_id(sim, gateway, make_execution, lookup_for):
    payment = sim.create_payment(1000, "USD")
    execution = make_execution(payment, 250)
    made = gateway.refund(execution)
    by_id = gateway.get_refund(lookup_for(execution, made.gateway_refund_id))
    by_hub_id = gateway.get_refund(lookup_for(execution))
    assert by_id == by_hub_id == made
    assert gateway.get_refund(lookup_for(execution, "sqrf_missing")) is None


def test_get_refund_ignores_a_dashboard_refund_of_the_same_amount(sim, gateway, make_execution, lookup_for):
    payment = sim.create_payment(1000, "USD")
    sim.dashboard_refund(payment, 250)
    execution = make_execution(payment, 250)
    assert gateway.get_refund(lookup_for(execution)) is None
    assert gateway.payment(payment).refunded == 250


def test_pending_refund_settles(sim, gateway, make_execution, lookup_for, eventually):
    sim.ledger.settle_after = 0.05
    payment = sim.create_payment(1000, "USD")
    execution = make_execution(payment, 600)
    result = gateway.refund(execution)
    assert (result.outcome, result.raw_status) == (Outcome.PENDING, "PENDING")
    assert gateway.payment(payment).refunded == 600
    settled = eventually(
        lambda: (
            (r := gateway.get_refund(lookup_for(execution, result.gateway_refund_id))).outcome is Outcome.SUCCEEDED
            and r
        )
    )
    assert settled and settled.gateway_refund_id == result.gateway_refund_id


@pytest.mark.parametrize(
    ("change", "key"),
    [({"access_token": ""}, "access_token"), ({"environment": "staging"}, "environment")],
)
def test_bad_configuration_is_refused_at_start(settings, change, key):
    with pytest.raises(ConfigError) as caught:
        SquareGateway("square-main", {**settings, **change})
    assert key in caught.value.key


def test_environment_is_used_when_no_base_url(settings):
    gateway = SquareGateway("square-main", {"access_token": "t", "environment": "sandbox"})
    assert gateway.client._client_wrapper.get_base_url() == "https://connect.squareupsandbox.com"
    assert SquareGateway("x", settings).client._client_wrapper.get_base_url() == settings["base_url"]
