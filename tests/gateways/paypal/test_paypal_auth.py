"""Access tokens that stop working between fetch and use: refreshed, and the request sent once more.

PayPal refuses a stale bearer token with 401 before it does anything, so sending the same
request again (the same ``PayPal-Request-Id``) with a fresh token cannot move money twice; a
401 must never become a permanent ``failed``.
"""

from __future__ import annotations

import json

import pytest

from hub.contracts import Outcome
from hub.errors import PlatformUnavailable
from hub.testing.signing import inbound


def _posts(sim, suffix: str):  # type: ignore[no-untyped-def]
    return [e for e in sim.exchanges if e["method"] == "POST" and e["path"].endswith(suffix)]


def _token_fetches(sim) -> int:  # type: ignore[no-untyped-def]
    return len([e for e in sim.exchanges if e["path"] == "/v1/oauth2/token"])


def _warm(sim, gateway, execution) -> str:  # type: ignore[no-untyped-def]
    """A first refund, so the adapter holds a token it believes valid for hours."""
    capture = sim.create_payment(10000, "USD")
    assert gateway.refund(execution(capture, 100)).outcome is Outcome.SUCCEEDED
    return capture


def test_v2_refund_with_a_token_expiring_in_flight_is_retried_once_with_the_same_request_id(
    sim, gateway, execution
) -> None:  # type: ignore[no-untyped-def]
    capture = _warm(sim, gateway, execution)
    job = execution(capture, 300)
    sim.expire_tokens_in_flight(path=r"/captures/[^/]+/refund$")
    result = gateway.refund(job)
    assert (result.outcome, result.amount) == (Outcome.SUCCEEDED, 300)
    first, second = _posts(sim, f"/{capture}/refund")[1:]
    assert (first["status"], second["status"]) == (401, 201)
    assert json.loads(first["response"])["error"] == "invalid_token"
    assert first["headers"]["Paypal-Request-Id"] == second["headers"]["Paypal-Request-Id"] == job.idempotency_key
    assert first["body"] == second["body"]
    assert first["headers"]["Authorization"] != second["headers"]["Authorization"]  # a fresh token
    assert _token_fetches(sim) == 2
    assert [r.amount for r in sim.ledger.refunds_of(capture)] == [100, 300]  # refunded once


def test_token_expired_between_fetch_and_use_is_refreshed(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = _warm(sim, gateway, execution)
    sim.expire_tokens()  # PayPal ends the token early; the adapter's cache still trusts it
    assert gateway.refund(execution(capture, 200)).outcome is Outcome.SUCCEEDED
    assert [e["status"] for e in _posts(sim, f"/{capture}/refund")] == [201, 401, 201]


def test_v1_sale_refund_with_a_token_expiring_in_flight_is_retried(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    _warm(sim, gateway, execution)
    sale = sim.create_payment(10000, "USD", kind="sale")
    job = execution(sale, 500, payment_extra={"paypal_api": "v1"})
    sim.expire_tokens_in_flight(path=r"/sale/[^/]+/refund$")
    result = gateway.refund(job)
    assert (result.outcome, result.amount) == (Outcome.SUCCEEDED, 500)
    posts = _posts(sim, f"/{sale}/refund")
    assert [e["status"] for e in posts] == [401, 201]
    assert {e["headers"]["Paypal-Request-Id"] for e in posts} == {job.idempotency_key}
    assert len(sim.ledger.refunds_of(sale)) == 1


def test_reads_and_webhook_checks_refresh_too(sim, gateway, execution, as_lookup) -> None:  # type: ignore[no-untyped-def]
    capture = _warm(sim, gateway, execution)
    job = execution(capture, 100)
    made = gateway.refund(job)
    sim.expire_tokens()
    found = gateway.get_refund(as_lookup(job, made.gateway_refund_id))
    assert found is not None and found.outcome is Outcome.SUCCEEDED
    sim.expire_tokens()
    assert gateway.payment(capture).refunded == 200
    body, headers = sim.outbox[-1]
    sim.expire_tokens()
    assert gateway.verify_webhook(inbound(body, headers)).topic == "PAYMENT.CAPTURE.REFUNDED"


def test_a_fresh_token_refused_again_is_retried_once_only_and_stays_retryable(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = _warm(sim, gateway, execution)
    sim.expire_tokens_in_flight(times=2, path=r"/captures/[^/]+/refund$")
    result = gateway.refund(execution(capture, 100))
    # Refused before anything was done, twice: surely not sent, so the hub retries it later
    # with the same key; never a permanent decline.
    assert result.outcome is Outcome.UNAVAILABLE
    assert result.code == "invalid_token"
    assert [e["status"] for e in _posts(sim, f"/{capture}/refund")] == [201, 401, 401]
    assert len(sim.ledger.refunds_of(capture)) == 1
    assert gateway.refund(execution(capture, 100)).outcome is Outcome.SUCCEEDED


def test_a_read_refused_twice_is_unavailable(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = _warm(sim, gateway, execution)
    sim.expire_tokens_in_flight(times=2, path=rf"/captures/{capture}$")
    with pytest.raises(PlatformUnavailable):
        gateway.payment(capture)
