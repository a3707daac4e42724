"""Transport and server faults from the simulator, and the outcome SquareGateway maps each to."""

from __future__ import annotations

import pytest

from gateways.square import SquareGateway
from hub.contracts import Outcome
from hub.errors import PlatformUnavailable


def refund_under(sim, gateway, execution, kind: str, **options):
    """Refund with ``kind`` of fault injected into the next ``POST /v2/refunds``."""
    sim.faults.add(kind, method="POST", path="^/v2/refunds$", **options)
    return gateway.refund(execution)


def test_lost_response_is_unknown_and_get_refund_finds_exactly_one(sim, gateway, make_execution, lookup_for):
    payment = sim.create_payment(1000, "USD")
    execution = make_execution(payment, 400)
    lost = refund_under(sim, gateway, execution, "lost_response")
    assert lost.outcome is Outcome.UNKNOWN
    assert len(sim.ledger.refunds_of(payment)) == 1  # the money moved

    found = gateway.get_refund(lookup_for(execution))
    assert found is not None and found.outcome is Outcome.SUCCEEDED and found.amount == 400
    assert [r.id for r in sim.ledger.refunds_of(payment)] == [found.gateway_refund_id]
    # A later retry with the same key replays the same refund instead of refunding again.
    assert gateway.refund(execution).gateway_refund_id == found.gateway_refund_id
    assert gateway.payment(payment).refunded == 400


def test_read_timeout_is_unknown_and_the_late_refund_is_found(sim, settings, make_execution, lookup_for, eventually):
    gateway = SquareGateway("square-main", {**settings, "timeout": 0.3})
    payment = sim.create_payment(1000, "USD")
    execution = make_execution(payment, 400)
    result = refund_under(sim, gateway, execution, "timeout", seconds=0.8)
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "ReadTimeout")
    found = eventually(lambda: gateway.get_refund(lookup_for(execution)))
    assert found is not None and found.outcome is Outcome.SUCCEEDED
    assert len(sim.ledger.refunds_of(payment)) == 1


def test_reset_before_the_work_is_unknown_and_nothing_is_found(sim, gateway, make_execution, lookup_for):
    payment = sim.create_payment(1000, "USD")
    execution = make_execution(payment, 400)
    result = refund_under(sim, gateway, execution, "reset")
    # The request left the client, so the adapter cannot prove it was not acted on.
    assert result.outcome is Outcome.UNKNOWN
    assert sim.ledger.refunds_of(payment) == []
    assert gateway.get_refund(lookup_for(execution)) is None
    assert gateway.refund(execution).outcome is Outcome.SUCCEEDED


def test_connection_refused_is_unavailable(closed_port_url, settings, make_execution):
    gateway = SquareGateway("square-main", {**settings, "base_url": closed_port_url})
    result = gateway.refund(make_execution("any-payment", 100))
    assert (result.outcome, result.code) == (Outcome.UNAVAILABLE, "ConnectError")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "INTERNAL_SERVER_ERROR"),
        (503, "SERVICE_UNAVAILABLE"),
        (504, "GATEWAY_TIMEOUT"),
        (409, "CONFLICT"),
        (408, "REQUEST_TIMEOUT"),
    ],
)
def test_server_errors_and_conflicts_are_unknown(sim, gateway, make_execution, status, code):
    payment = sim.create_payment(1000, "USD")
    result = refund_under(sim, gateway, make_execution(payment, 100), "error", status=status)
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, code)


def test_rate_limit_is_unavailable(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD")
    result = refund_under(sim, gateway, make_execution(payment, 100), "error", status=429)
    assert (result.outcome, result.code) == (Outcome.UNAVAILABLE, "RATE_LIMITED")
    assert sim.ledger.refunds_of(payment) == []


def test_latency_below_the_timeout_is_harmless(sim, gateway, make_execution):
    payment = sim.create_payment(1000, "USD")
    result = refund_under(sim, gateway, make_execution(payment, 100), "latency", seconds=0.1)
    assert result.outcome is Outcome.SUCCEEDED


def test_sdk_retry_of_a_5xx_resends_the_same_key(sim, settings, make_execution):
    gateway = SquareGateway("square-main", {**settings, "max_retries": 1})
    payment = sim.create_payment(1000, "USD")
    # The SDK backs off about a second, then resends.
    result = refund_under(sim, gateway, make_execution(payment, 100), "error", status=503)
    assert result.outcome is Outcome.SUCCEEDED
    posts = [x.request for x in sim.exchanges if x.path == "/v2/refunds"]
    assert len(posts) == 2 and posts[0] == posts[1]
    assert len(sim.ledger.refunds_of(payment)) == 1


def test_a_failed_lookup_is_unknown_never_unavailable(
    sim, gateway, make_execution, lookup_for, closed_port_url, settings
):
    payment = sim.create_payment(1000, "USD")
    execution = make_execution(payment, 100)
    sim.faults.add("error", status=500, method="GET", path="^/v2/payments/")
    assert gateway.get_refund(lookup_for(execution)).outcome is Outcome.UNKNOWN
    offline = SquareGateway("square-main", {**settings, "base_url": closed_port_url})
    assert offline.get_refund(lookup_for(execution, "sqrf_1")).outcome is Outcome.UNKNOWN


def test_payment_read_failures_raise_platform_unavailable(sim, gateway, closed_port_url, settings):
    payment = sim.create_payment(1000, "USD")
    sim.faults.add("error", status=503, method="GET", path="^/v2/payments/")
    with pytest.raises(PlatformUnavailable):
        gateway.payment(payment)
    offline = SquareGateway("square-main", {**settings, "base_url": closed_port_url})
    with pytest.raises(PlatformUnavailable):
        offline.payment(payment)


def test_faults_can_be_set_over_http(sim, gateway, make_execution):
    import requests

    payment = requests.post(f"{sim.url}/__sim/payments", json={"amount": 900, "currency": "JPY"}, timeout=5).json()[
        "id"
    ]
    requests.post(f"{sim.url}/__sim/faults", json={"kind": "error", "status": 502, "path": "^/v2/refunds$"}, timeout=5)
    assert gateway.refund(make_execution(payment, 100, "JPY")).outcome is Outcome.UNKNOWN
    assert gateway.refund(make_execution(payment, 100, "JPY")).outcome is Outcome.SUCCEEDED
