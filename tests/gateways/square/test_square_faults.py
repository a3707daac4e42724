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


# -- the SDK's own retries: what the attempts before the last may have done --------------------
# The SDK backs off about a second before each retry (1 s x 2^n with jitter, core/http_client.py).


def _refund_posts(sim):
    return [x for x in sim.exchanges if x.method == "POST" and x.path == "/v2/refunds"]


def _down_after(sim, status: int) -> None:
    """Take ``sim`` down as soon as it has answered ``status``: the SDK's retry is refused.

    ``Connection: close`` makes the retry open a new connection (rather than reuse the kept-alive
    one, which the stopped server would still serve), and nothing listens any more.
    """

    def stop_after(response):
        if response.status_code == status:
            response.headers["Connection"] = "close"
            sim.stop()
        return response

    sim.app.after_request_funcs.setdefault(None, []).append(stop_after)


@pytest.mark.parametrize(("last", "code"), [(429, "RATE_LIMITED"), (400, "BAD_REQUEST")])
def test_a_5xx_then_a_refusal_is_unknown_not_unavailable_or_failed(sim, settings, make_execution, last, code):
    gateway = SquareGateway("square-main", {**settings, "max_retries": 1})
    payment = sim.create_payment(1000, "USD")
    sim.faults.add("error", status=503, method="POST", path="^/v2/refunds$")
    sim.faults.add("error", status=last, method="POST", path="^/v2/refunds$")
    result = gateway.refund(make_execution(payment, 100))
    # The 503 may have come after Square refunded: the last answer proves nothing about it.
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, code)
    assert "earlier attempt" in (result.message or "")
    posts = _refund_posts(sim)
    assert [x.status for x in posts] == [503, last] and posts[0].request == posts[1].request


def test_a_5xx_then_connection_refused_is_unknown(own_sim, make_execution):
    gateway = SquareGateway("square-main", {**own_sim.hub_settings(), "max_retries": 1, "timeout": 2})
    payment = own_sim.create_payment(1000, "USD")
    own_sim.faults.add("error", status=503, method="POST", path="^/v2/refunds$")
    _down_after(own_sim, 503)
    result = gateway.refund(make_execution(payment, 100))
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "ConnectError")
    assert "earlier attempt" in (result.message or "")
    assert [x.status for x in _refund_posts(own_sim)] == [503]


def test_rate_limited_on_every_attempt_stays_unavailable(sim, settings, make_execution):
    gateway = SquareGateway("square-main", {**settings, "max_retries": 1})
    payment = sim.create_payment(1000, "USD")
    sim.faults.add("error", status=429, times=2, method="POST", path="^/v2/refunds$")
    result = gateway.refund(make_execution(payment, 100))
    assert (result.outcome, result.code) == (Outcome.UNAVAILABLE, "RATE_LIMITED")  # nothing ever ran
    assert [x.status for x in _refund_posts(sim)] == [429, 429]


def test_connection_refused_only_is_unavailable_with_sdk_retries_on(closed_port_url, settings, make_execution):
    gateway = SquareGateway("square-main", {**settings, "base_url": closed_port_url, "max_retries": 2})
    result = gateway.refund(make_execution("any-payment", 100))
    assert (result.outcome, result.code) == (Outcome.UNAVAILABLE, "ConnectError")


def test_each_call_starts_a_fresh_trace(sim, settings, make_execution, closed_port_url):
    """A 5xx in one refund call says nothing about the next call's attempts."""
    gateway = SquareGateway("square-main", {**settings, "max_retries": 0})
    payment = sim.create_payment(1000, "USD")
    sim.faults.add("error", status=503, method="POST", path="^/v2/refunds$")
    assert gateway.refund(make_execution(payment, 100)).outcome is Outcome.UNKNOWN
    sim.faults.add("error", status=429, method="POST", path="^/v2/refunds$")
    assert gateway.refund(make_execution(payment, 100)).outcome is Outcome.UNAVAILABLE
