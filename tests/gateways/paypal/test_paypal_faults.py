"""Every transport fault and error status maps to the outcome that keeps money moving at most once."""

from __future__ import annotations

import pytest

from hub.contracts import Outcome
from hub.errors import PlatformUnavailable

REFUND_PATH = r"/refund$"


def _moved(sim, capture) -> int:  # type: ignore[no-untyped-def]
    return sum(r.amount for r in sim.ledger.refunds_of(capture))


def test_lost_response_is_unknown_and_found_exactly_once(sim, gateway, execution, as_lookup) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    made = execution(capture, 2500)
    sim.faults.add("lost_response", path=REFUND_PATH)
    result = gateway.refund(made)
    assert result.outcome is Outcome.UNKNOWN
    found = gateway.get_refund(as_lookup(made))
    [only] = sim.ledger.refunds_of(capture)
    assert found is not None and (found.outcome, found.gateway_refund_id, found.amount) == (
        Outcome.SUCCEEDED,
        only.id,
        2500,
    )
    resent = gateway.refund(made)  # the janitor's same-key re-send replays instead of refunding again
    assert resent.gateway_refund_id == only.id and _moved(sim, capture) == 2500


def test_timeout_is_unknown_and_the_late_refund_is_found(sim, make_gateway, execution, as_lookup, wait) -> None:  # type: ignore[no-untyped-def]
    adapter = make_gateway(sim, timeout=0.3)
    capture = sim.create_payment(10000, "USD")
    made = execution(capture, 1000)
    sim.faults.add("timeout", seconds=0.6, path=REFUND_PATH)  # the server works after the client gave up
    result = adapter.refund(made)
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "ReadTimeout")
    wait(lambda: sim.ledger.refunds_of(capture))
    found = adapter.get_refund(as_lookup(made))
    assert found is not None and found.outcome is Outcome.SUCCEEDED and _moved(sim, capture) == 1000


def test_slow_response_after_the_work_is_unknown(sim, make_gateway, execution, as_lookup) -> None:  # type: ignore[no-untyped-def]
    adapter = make_gateway(sim, timeout=0.3)
    capture = sim.create_payment(10000, "USD")
    made = execution(capture, 1000)
    sim.faults.add("slow_response", seconds=1.0, path=REFUND_PATH)
    result = adapter.refund(made)
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "ReadTimeout")
    found = adapter.get_refund(as_lookup(made))
    assert found is not None and found.outcome is Outcome.SUCCEEDED and _moved(sim, capture) == 1000


def test_reset_before_the_work_is_unknown_then_resent_once(sim, gateway, execution, as_lookup) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    made = execution(capture, 1000)
    sim.faults.add("reset", path=REFUND_PATH)
    result = gateway.refund(made)
    assert result.outcome is Outcome.UNKNOWN  # the request was on the wire: it cannot be proven unsent
    assert gateway.get_refund(as_lookup(made)) is None and _moved(sim, capture) == 0
    assert gateway.refund(made).outcome is Outcome.SUCCEEDED and _moved(sim, capture) == 1000


def test_connection_refused_is_unavailable(own_sim, make_gateway, execution) -> None:  # type: ignore[no-untyped-def]
    adapter = make_gateway(own_sim)
    capture = own_sim.create_payment(10000, "USD")
    assert adapter.refund(execution(capture, 100)).outcome is Outcome.SUCCEEDED  # token cached
    own_sim.stop()
    adapter.close()  # drop pooled connections, as after any server restart
    result = adapter.refund(execution(capture, 100))
    assert (result.outcome, result.code) == (Outcome.UNAVAILABLE, "ConnectionError")
    fresh = make_gateway(own_sim)  # no token yet: the token request is refused, the refund never sent
    result = fresh.refund(execution(capture, 100))
    assert (result.outcome, result.code) == (Outcome.UNAVAILABLE, "TOKEN_UNAVAILABLE")


@pytest.mark.parametrize(
    ("status", "outcome", "code"),
    [
        (500, Outcome.UNKNOWN, "INTERNAL_SERVER_ERROR"),
        (503, Outcome.UNKNOWN, "SERVICE_UNAVAILABLE"),
        (409, Outcome.UNKNOWN, "PREVIOUS_REQUEST_IN_PROGRESS"),
        (429, Outcome.UNAVAILABLE, "RATE_LIMIT_REACHED"),
    ],
)
def test_error_statuses(sim, gateway, execution, status, outcome, code) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    sim.faults.add("error", status=status, path=REFUND_PATH)
    result = gateway.refund(execution(capture, 100))
    assert (result.outcome, result.code) == (outcome, code)
    assert result.message and "debug_id" in result.message


def test_token_endpoint_failure_means_not_sent(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    sim.faults.add("error", status=500, path=r"/v1/oauth2/token$")
    result = gateway.refund(execution(capture, 100))
    assert (result.outcome, result.code) == (Outcome.UNAVAILABLE, "TOKEN_UNAVAILABLE")
    assert _moved(sim, capture) == 0


def test_latency_still_succeeds(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    sim.faults.add("latency", seconds=0.1, path=REFUND_PATH)
    assert gateway.refund(execution(capture, 100)).outcome is Outcome.SUCCEEDED


def test_failed_lookups_stay_unknown(sim, gateway, execution, as_lookup) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    made = execution(capture, 100)
    sim.faults.add("error", status=503, path=r"/v2/checkout/orders/")
    result = gateway.get_refund(as_lookup(made))
    assert result is not None and (result.outcome, result.code) == (Outcome.UNKNOWN, "SERVICE_UNAVAILABLE")
    sim.faults.add("error", status=500, path=r"/v2/payments/captures/")
    with pytest.raises(PlatformUnavailable):
        gateway.payment(capture)
    assert gateway.get_refund(as_lookup(made, gateway_refund_id="NOSUCHREFUND00001")) is None
