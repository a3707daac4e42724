"""Each transport fault, injected by the simulator, mapped to the outcome the hub can act on."""

from __future__ import annotations

import socket

import pytest

from hub.contracts import Outcome

REFUNDS = "^/v1/refunds$"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_lost_response_is_unknown_and_get_refund_finds_exactly_one(sim, gateway, execution, lookup_of):
    pi = sim.create_payment(1000, "USD")
    job = execution(pi, 600)
    sim.faults.add("lost_response", method="POST", path=REFUNDS)
    result = gateway.refund(job)
    assert result.outcome is Outcome.UNKNOWN
    assert result.code == "network_error"
    found = gateway.get_refund(lookup_of(job))
    assert found is not None and found.outcome is Outcome.SUCCEEDED
    assert [r.id for r in sim.ledger.refunds_of(pi)] == [found.gateway_refund_id]
    # The hub may retry with the same key: Stripe replays, nothing moves twice.
    assert gateway.refund(job).gateway_refund_id == found.gateway_refund_id
    assert gateway.payment(pi).refunded == 600


def test_timeout_is_unknown_and_the_refund_may_still_happen(sim, make_gateway, execution, until, lookup_of):
    pi = sim.create_payment(1000, "USD")
    job = execution(pi, 100)
    sim.faults.add("timeout", seconds=0.8, method="POST", path=REFUNDS)
    gateway = make_gateway(timeout=0.2)
    assert gateway.refund(job).outcome is Outcome.UNKNOWN
    until(lambda: len(sim.ledger.refunds_of(pi)) == 1)
    assert gateway.get_refund(lookup_of(job)).outcome is Outcome.SUCCEEDED


def test_reset_after_sending_is_unknown(sim, gateway, execution):
    pi = sim.create_payment(1000, "USD")
    sim.faults.add("reset", method="POST", path=REFUNDS)
    result = gateway.refund(execution(pi, 100))
    assert result.outcome is Outcome.UNKNOWN  # the request left; the client cannot prove it was not run


def test_connection_refused_is_unavailable(make_gateway, execution):
    gateway = make_gateway(base_url=f"http://127.0.0.1:{_closed_port()}")
    result = gateway.refund(execution("pi_any", 100))
    assert result.outcome is Outcome.UNAVAILABLE
    assert result.code == "connection_failed"


@pytest.mark.parametrize("status", [500, 502, 503, 409])
def test_server_errors_and_conflicts_are_unknown(sim, gateway, execution, status):
    pi = sim.create_payment(1000, "USD")
    sim.faults.add("error", status=status, method="POST", path=REFUNDS)
    result = gateway.refund(execution(pi, 100))
    assert result.outcome is Outcome.UNKNOWN
    assert str(status) in result.message


def test_rate_limit_is_unavailable(sim, gateway, execution):
    pi = sim.create_payment(1000, "USD")
    sim.faults.add("error", status=429, method="POST", path=REFUNDS)
    result = gateway.refund(execution(pi, 100))
    assert (result.outcome, result.code) == (Outcome.UNAVAILABLE, "rate_limit")


def test_latency_alone_changes_nothing(sim, gateway, execution):
    pi = sim.create_payment(1000, "USD")
    sim.faults.add("latency", seconds=0.1, method="POST", path=REFUNDS)
    assert gateway.refund(execution(pi, 100)).outcome is Outcome.SUCCEEDED


def test_sdk_retries_a_500_with_the_same_key(sim, make_gateway, execution):
    pi = sim.create_payment(1000, "USD")
    job = execution(pi, 100)
    sim.faults.add("error", status=500, method="POST", path=REFUNDS)
    result = make_gateway(max_network_retries=1).refund(job)
    assert result.outcome is Outcome.SUCCEEDED
    keys = [r.headers["Idempotency-Key"] for r in sim.requests if r.method == "POST"]
    assert keys == [job.idempotency_key, job.idempotency_key]


def test_sdk_retry_after_a_lost_response_is_replayed_not_repeated(sim, make_gateway, execution):
    pi = sim.create_payment(1000, "USD")
    sim.faults.add("lost_response", method="POST", path=REFUNDS)
    result = make_gateway(max_network_retries=1).refund(execution(pi, 100))
    assert result.outcome is Outcome.SUCCEEDED
    assert len(sim.ledger.refunds_of(pi)) == 1
