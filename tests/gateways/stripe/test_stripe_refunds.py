"""The Stripe adapter driving the official SDK against the simulator: refunds, replays, lookups."""

from __future__ import annotations

from hub.contracts import Outcome


def _posts(sim):
    return [r for r in sim.requests if r.method == "POST" and r.path == "/v1/refunds"]


def test_full_refund_succeeds_and_sends_key_and_metadata(sim, gateway, execution, spec):
    pi = sim.create_payment(2500, "USD")
    job = execution(pi, 2500, source_ref="return-7")
    result = gateway.refund(job)
    assert result.outcome is Outcome.SUCCEEDED
    assert (result.amount, result.currency, result.raw_status) == (2500, "USD", "succeeded")
    assert result.gateway_refund_id.startswith("re_")
    sent = _posts(sim)[0]
    assert sent.headers["Idempotency-Key"] == job.idempotency_key
    assert sent.params["payment_intent"] == pi
    assert sent.params["metadata"] == {"hub_refund_id": job.hub_refund_id, "order_id": "1001", "source_ref": "return-7"}
    spec.check_form_request("/v1/refunds", "post", sent.params)
    state = gateway.payment(pi)
    assert (state.captured, state.refunded, state.disputed) == (2500, 2500, False)


def test_partial_refunds_add_up_then_the_rest_is_declined(sim, gateway, execution):
    pi = sim.create_payment(1000, "USD")
    assert gateway.refund(execution(pi, 300)).outcome is Outcome.SUCCEEDED
    assert gateway.refund(execution(pi, 700)).outcome is Outcome.SUCCEEDED
    again = gateway.refund(execution(pi, 1))
    assert again.outcome is Outcome.FAILED
    assert again.code == "charge_already_refunded"
    assert gateway.payment(pi).refunded == 1000


def test_same_key_replays_the_first_response(sim, gateway, execution):
    pi = sim.create_payment(1000, "USD")
    job = execution(pi, 400)
    first, second = gateway.refund(job), gateway.refund(job)
    assert first.gateway_refund_id == second.gateway_refund_id
    assert len(sim.ledger.refunds_of(pi)) == 1
    assert gateway.payment(pi).refunded == 400


def test_key_reused_with_other_parameters_is_unknown_and_surfaced(sim, gateway, execution):
    pi = sim.create_payment(1000, "USD")
    job = execution(pi, 400)
    assert gateway.refund(job).outcome is Outcome.SUCCEEDED
    reused = gateway.refund(execution(pi, 500, hub_refund_id=job.hub_refund_id, idempotency_key=job.idempotency_key))
    # money may have moved under that key: never a release of the reservation
    assert reused.outcome is Outcome.UNKNOWN
    assert reused.code == "idempotency_error"
    assert "hub bug" in reused.message
    assert gateway.payment(pi).refunded == 400


def test_over_refund_is_declined_with_stripe_code(sim, gateway, execution):
    pi = sim.create_payment(1000, "USD")
    result = gateway.refund(execution(pi, 1001))
    assert result.outcome is Outcome.FAILED
    assert result.code == "amount_too_large"
    assert "greater than" in result.message
    assert gateway.payment(pi).refunded == 0


def test_a_declined_result_is_replayed_for_the_same_key(sim, gateway, execution):
    pi = sim.create_payment(1000, "USD")
    job = execution(pi, 1001)
    assert gateway.refund(job).code == "amount_too_large"
    assert gateway.refund(job).code == "amount_too_large"
    assert sim.ledger.refunds_of(pi) == []


def test_refund_on_a_charge_reference(sim, gateway, execution):
    pi = sim.create_payment(1000, "EUR")
    charge = sim.charge_of(pi)
    result = gateway.refund(execution(charge, 250, "EUR"))
    assert result.outcome is Outcome.SUCCEEDED
    assert _posts(sim)[0].params["charge"] == charge
    state = gateway.payment(charge)
    assert (state.reference, state.captured, state.refunded, state.currency) == (charge, 1000, 250, "EUR")


def test_payment_intent_from_woocommerce_meta_is_preferred(sim, gateway, execution):
    pi = sim.create_payment(1000, "USD")
    job = execution(sim.charge_of(pi), 100, payment_extra={"stripe_intent_id": pi})
    assert gateway.refund(job).outcome is Outcome.SUCCEEDED
    params = _posts(sim)[0].params
    assert params["payment_intent"] == pi and "charge" not in params


def test_unknown_payment_is_declined(sim, gateway, execution):
    result = gateway.refund(execution("pi_doesnotexist", 100))
    assert result.outcome is Outcome.FAILED
    assert result.code == "resource_missing"


def test_reference_that_is_not_stripe_is_refused_before_any_call(sim, gateway, execution):
    result = gateway.refund(execution("PAYID-123", 100))
    assert (result.outcome, result.code) == (Outcome.FAILED, "unsupported_reference")
    assert not sim.requests


def test_wrong_api_key_is_a_permanent_failure(sim, make_gateway, execution):
    pi = sim.create_payment(1000, "USD")
    result = make_gateway(api_key="sk_test_wrong").refund(execution(pi, 100))
    assert result.outcome is Outcome.FAILED
    assert result.code == "authentication_failed"
    assert result.message.startswith("permanent:")
    assert sim.ledger.refunds_of(pi) == []


def test_disputed_payment_is_reported_and_refused(sim, gateway, execution):
    pi = sim.create_payment(1000, "USD")
    sim.open_dispute(pi)  # the cardholder disputes the charge
    assert gateway.payment(pi).disputed is True
    result = gateway.refund(execution(pi, 100))
    assert (result.outcome, result.code) == (Outcome.FAILED, "charge_disputed")


def test_get_refund_by_gateway_id_and_by_metadata(sim, gateway, execution, lookup_of):
    pi = sim.create_payment(1000, "USD")
    sim.dashboard_refund(pi, 50)  # another refund on the same payment must not be confused with ours
    job = execution(pi, 300)
    made = gateway.refund(job)
    by_id = gateway.get_refund(lookup_of(job, made.gateway_refund_id))
    by_search = gateway.get_refund(lookup_of(job))
    assert by_id == by_search == made


def test_get_refund_with_a_stale_gateway_id_falls_back_to_search(sim, gateway, execution, lookup_of):
    pi = sim.create_payment(1000, "USD")
    job = execution(pi, 300)
    made = gateway.refund(job)
    assert gateway.get_refund(lookup_of(job, "re_gone")) == made


def test_get_refund_says_none_when_nothing_was_made(sim, gateway, execution, lookup_of):
    pi = sim.create_payment(1000, "USD")
    assert gateway.get_refund(lookup_of(execution(pi, 300))) is None


def test_get_refund_pages_through_many_refunds(sim, gateway, execution, lookup_of):
    pi = sim.create_payment(100_000, "USD")
    job = execution(pi, 5)
    made = gateway.refund(job)
    for _ in range(105):
        sim.dashboard_refund(pi, 1)
    assert gateway.get_refund(lookup_of(job)) == made
    lists = [r for r in sim.requests if r.path == "/v1/refunds" and r.method == "GET"]
    assert len(lists) == 2 and lists[1].params["starting_after"].startswith("re_")


def test_get_refund_reports_unknown_when_stripe_cannot_be_asked(sim, gateway, execution, lookup_of):
    pi = sim.create_payment(1000, "USD")
    sim.faults.add("error", status=503, path="^/v1/refunds$")
    found = gateway.get_refund(lookup_of(execution(pi, 300)))
    assert found is not None and found.outcome is Outcome.UNKNOWN
    assert found.message.startswith("lookup failed")
