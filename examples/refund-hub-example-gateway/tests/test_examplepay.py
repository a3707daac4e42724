"""ExamplePayGateway against the simulator: what goes on the wire, how every failure maps to an
outcome, idempotent replay, lookups, payments and signed status webhooks."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests
from refundhub_example_gateway import ExamplePayError, ExamplePayGateway
from refundhub_example_gateway.simulator import ExamplePaySimulator

from hub.contracts import Outcome
from hub.errors import ConfigError, HubError, MalformedBody, ParseError, SignatureInvalid
from hub.testing.executions import execution, lookup_for
from hub.testing.signing import hmac_hex, inbound

Adapter = Callable[..., ExamplePayGateway]  # the ``make_adapter`` fixture


@pytest.fixture
def payment(sim: ExamplePaySimulator) -> str:
    """A captured payment of 30.00 USD at the simulator."""
    return sim.create_payment(3000)


# -- on the wire ---------------------------------------------------------------------------


def test_refund_sends_minor_units_the_execution_currency_and_its_key(
    sim: ExamplePaySimulator, gateway: ExamplePayGateway
) -> None:
    payment = sim.create_payment(5000, "EUR")
    ex = execution(payment, 1234, "EUR", order_id="1001")
    result = gateway.refund(ex)
    assert result.outcome is Outcome.SUCCEEDED
    assert (result.amount, result.currency) == (1234, "EUR")
    [sent] = [r for r in sim.received if r.method == "POST"]
    assert sent.idempotency_key == ex.idempotency_key
    assert sent.body["amount"] == 1234
    assert sent.body["currency"] == "eur"
    assert sent.body["payment"] == payment
    assert sent.body["metadata"] == {"hub_refund_id": ex.hub_refund_id, "order_id": "1001"}


def test_a_repeat_with_the_same_key_is_replayed_not_repeated(
    sim: ExamplePaySimulator, payment: str, gateway: ExamplePayGateway
) -> None:
    ex = execution(payment, 1000)
    first, again = gateway.refund(ex), gateway.refund(ex)
    assert again == first
    assert sim.keys_sent() == [ex.idempotency_key, ex.idempotency_key]
    assert len(sim.refunds_of(payment)) == 1
    assert gateway.payment(payment).refunded == 1000


def test_the_same_key_with_other_parameters_is_refused_and_moves_nothing(
    sim: ExamplePaySimulator, payment: str, gateway: ExamplePayGateway
) -> None:
    ex = execution(payment, 1000)
    gateway.refund(ex)
    other = execution(payment, 1500, hub_refund_id=ex.hub_refund_id, idempotency_key=ex.idempotency_key)
    result = gateway.refund(other)
    assert (result.outcome, result.code) == (Outcome.FAILED, "idempotency_key_reused")
    assert [r["amount"] for r in sim.refunds_of(payment)] == [1000]


# -- failures: unknown (maybe sent) --------------------------------------------------------


def test_5xx_after_the_work_is_unknown_and_a_same_key_retry_converges(
    sim: ExamplePaySimulator, payment: str, gateway: ExamplePayGateway
) -> None:
    ex = execution(payment, 3000)
    sim.answer_next(500, after_work=True)
    lost = gateway.refund(ex)
    assert lost.outcome is Outcome.UNKNOWN
    assert lost.gateway_refund_id is None
    retried = gateway.refund(ex)  # what the hub does within the replay window
    [at_gateway] = sim.refunds_of(payment)
    assert (retried.outcome, retried.gateway_refund_id) == (Outcome.SUCCEEDED, at_gateway["id"])


def test_a_timeout_is_unknown_and_get_refund_finds_what_was_done(
    sim: ExamplePaySimulator, payment: str, gateway: ExamplePayGateway
) -> None:
    ex = execution(payment, 2000)
    sim.stall_next(1.5)  # longer than the adapter's 0.5 s read timeout; the refund is made
    result = gateway.refund(ex)
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "timeout")
    found = gateway.get_refund(lookup_for(ex))  # no refund id known: found by the hub refund id
    [at_gateway] = sim.refunds_of(payment)
    assert found is not None
    assert (found.outcome, found.gateway_refund_id) == (Outcome.SUCCEEDED, at_gateway["id"])


def test_a_connection_lost_after_sending_is_unknown_not_unavailable(
    sim: ExamplePaySimulator, payment: str, gateway: ExamplePayGateway
) -> None:
    sim.drop_next()  # the refund is made, then the connection closes unanswered
    result = gateway.refund(execution(payment, 500))
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "connection_lost")
    assert len(sim.refunds_of(payment)) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408, 409])
def test_server_errors_and_conflicts_are_unknown(
    sim: ExamplePaySimulator, payment: str, gateway: ExamplePayGateway, status: int
) -> None:
    sim.answer_next(status)
    result = gateway.refund(execution(payment, 500))
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, f"simulated_{status}")


def test_unknown_with_no_trace_is_none_and_the_lookup_is_complete(
    sim: ExamplePaySimulator, payment: str, gateway: ExamplePayGateway
) -> None:
    ex = execution(payment, 500)
    sim.answer_next(503)  # refused before any work
    assert gateway.refund(ex).outcome is Outcome.UNKNOWN
    assert gateway.get_refund(lookup_for(ex)) is None
    assert ExamplePayGateway.lookup_is_complete  # so the hub may re-send with the same key


# -- failures: unavailable (surely not sent) -----------------------------------------------


def test_connection_refused_is_unavailable(make_adapter: Adapter, closed_port: int) -> None:
    gateway = make_adapter(base_url=f"http://127.0.0.1:{closed_port}")
    result = gateway.refund(execution("pay_x", 100))
    assert (result.outcome, result.code) == (Outcome.UNAVAILABLE, "not_connected")


def test_an_unusable_base_url_is_unavailable(make_adapter: Adapter) -> None:
    gateway = make_adapter(base_url="127.0.0.1:1")  # no scheme: nothing is sent
    assert gateway.refund(execution("pay_x", 100)).outcome is Outcome.UNAVAILABLE


def test_rate_limiting_is_unavailable(sim: ExamplePaySimulator, payment: str, gateway: ExamplePayGateway) -> None:
    sim.answer_next(429)
    assert gateway.refund(execution(payment, 500)).outcome is Outcome.UNAVAILABLE
    assert sim.refunds_of(payment) == []


# -- failures: declined (permanent) --------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("disputed", "payment_disputed"),
        ("other_currency", "currency_mismatch"),
        ("no_such_payment", "payment_not_found"),
        ("bad_api_key", "invalid_api_key"),
        ("over_balance", "amount_exceeds_balance"),
    ],
)
def test_refusals_are_declined_with_examplepays_code(
    sim: ExamplePaySimulator, make_adapter: Adapter, case: str, code: str
) -> None:
    gateway = make_adapter(api_key="ep_wrong" if case == "bad_api_key" else sim.api_key)
    payment = sim.create_payment(3000, "USD", disputed=case == "disputed")
    if case == "over_balance":
        assert gateway.refund(execution(payment, 2500)).outcome is Outcome.SUCCEEDED
    ex = execution(
        "pay_missing" if case == "no_such_payment" else payment,
        1000,
        "GBP" if case == "other_currency" else "USD",
    )
    result = gateway.refund(ex)
    assert (result.outcome, result.code) == (Outcome.FAILED, code)
    assert result.message


def test_no_api_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match=r"gateways\.examplepay-test\.api_key"):
        ExamplePayGateway("examplepay-test", {"base_url": "http://127.0.0.1:1"})


# -- pending refunds and lookups -----------------------------------------------------------


def test_a_pending_refund_counts_against_the_balance_and_is_found_settled(
    sim: ExamplePaySimulator, payment: str, make_adapter: Adapter
) -> None:
    sim.settle_refunds = False
    gateway = make_adapter()
    ex = execution(payment, 1200)
    made = gateway.refund(ex)
    assert made.outcome is Outcome.PENDING
    assert made.gateway_refund_id
    assert gateway.payment(payment).refunded == 1200
    sim.settle(made.gateway_refund_id, "failed", failure_code="card_expired")
    found = gateway.get_refund(lookup_for(ex, gateway_refund_id=made.gateway_refund_id))
    assert found is not None
    assert (found.outcome, found.code) == (Outcome.FAILED, "card_expired")
    assert gateway.payment(payment).refunded == 0


def test_get_refund_with_a_stale_refund_id_falls_back_to_the_payment(payment: str, gateway: ExamplePayGateway) -> None:
    ex = execution(payment, 700)
    made = gateway.refund(ex)
    found = gateway.get_refund(lookup_for(ex, gateway_refund_id="re_not_at_examplepay"))
    assert found is not None
    assert found.gateway_refund_id == made.gateway_refund_id


def test_get_refund_reads_every_page(sim: ExamplePaySimulator, gateway: ExamplePayGateway) -> None:
    sim.page_size = 2
    payment = sim.create_payment(5000)
    executions = [execution(payment, 100) for _ in range(5)]
    made = [gateway.refund(ex) for ex in executions]
    found = gateway.get_refund(lookup_for(executions[-1]))
    assert found is not None
    assert found.gateway_refund_id == made[-1].gateway_refund_id
    pages = [r for r in sim.received if r.path == f"/v1/payments/{payment}/refunds"]
    assert len(pages) == 3
    assert gateway.get_refund(lookup_for(execution(payment, 100))) is None  # all pages, no match


def test_get_refund_of_an_unknown_payment_is_none(gateway: ExamplePayGateway) -> None:
    assert gateway.get_refund(lookup_for(execution("pay_missing", 100))) is None


def test_a_failed_lookup_is_unknown_never_none(
    sim: ExamplePaySimulator, payment: str, make_adapter: Adapter, closed_port: int
) -> None:
    sim.answer_next(500, method="GET", path=f"/v1/payments/{payment}/refunds")
    gateway = make_adapter()
    faulted = gateway.get_refund(lookup_for(execution(payment, 100)))
    assert faulted is not None
    assert faulted.outcome is Outcome.UNKNOWN
    unreachable = make_adapter(base_url=f"http://127.0.0.1:{closed_port}")
    result = unreachable.get_refund(lookup_for(execution(payment, 100), gateway_refund_id="re_1"))
    assert result is not None
    assert result.outcome is Outcome.UNKNOWN


# -- payments ------------------------------------------------------------------------------


def test_payment_reports_the_dispute_flag(sim: ExamplePaySimulator, gateway: ExamplePayGateway) -> None:
    state = gateway.payment(sim.create_payment(900, "JPY", disputed=True))
    assert (state.captured, state.refunded, state.currency, state.disputed) == (900, 0, "JPY", True)


def test_payment_failures_are_hub_errors_not_requests_exceptions(
    gateway: ExamplePayGateway, make_adapter: Adapter, closed_port: int
) -> None:
    with pytest.raises(ExamplePayError) as missing:
        gateway.payment("pay_missing")
    assert (missing.value.outcome, missing.value.code) == (Outcome.FAILED, "payment_not_found")
    unreachable = make_adapter(base_url=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(HubError) as down:
        unreachable.payment("pay_x")
    assert isinstance(down.value, ExamplePayError)
    assert down.value.outcome is Outcome.UNAVAILABLE
    assert not isinstance(down.value, requests.RequestException)


# -- status webhooks -----------------------------------------------------------------------


def test_a_signed_status_webhook_verifies_and_parses(
    sim: ExamplePaySimulator, payment: str, gateway: ExamplePayGateway
) -> None:
    ex = execution(payment, 800)
    made = gateway.refund(ex)
    assert made.gateway_refund_id
    body, headers = sim.signed_event(made.gateway_refund_id)
    verified = gateway.verify_webhook(inbound(body, headers))
    assert (verified.store_id, verified.topic) == ("examplepay-test", "refund.updated")
    assert verified.dedupe_key == json.loads(body)["id"]
    [event] = gateway.parse_webhook(body)
    assert (event.gateway_refund_id, event.hub_refund_id, event.outcome) == (
        made.gateway_refund_id,
        ex.hub_refund_id,
        Outcome.SUCCEEDED,
    )
    assert (event.amount, event.currency, event.payment_reference) == (800, "USD", payment)


def test_the_previous_secret_is_accepted_during_a_rotation(
    sim: ExamplePaySimulator, payment: str, make_adapter: Adapter
) -> None:
    gateway = make_adapter(webhook_secret="whsec_new", previous_webhook_secret=sim.webhook_secret)
    made = gateway.refund(execution(payment, 800))
    assert made.gateway_refund_id
    body, headers = sim.signed_event(made.gateway_refund_id)
    assert gateway.verify_webhook(inbound(body, headers)).topic == "refund.updated"


@pytest.mark.parametrize("how", ["tampered_body", "wrong_secret", "no_signature", "no_secret_configured"])
def test_unauthentic_webhooks_are_refused(sim: ExamplePaySimulator, make_adapter: Adapter, how: str) -> None:
    gateway = make_adapter(webhook_secret="" if how == "no_secret_configured" else sim.webhook_secret)
    body = json.dumps({"id": "evt_1", "type": "refund.updated", "data": {}}).encode()
    signature = hmac_hex("whsec_someone_else" if how == "wrong_secret" else sim.webhook_secret, body)
    headers = {} if how == "no_signature" else {"X-ExamplePay-Signature": signature}
    sent = body.replace(b"evt_1", b"evt_2") if how == "tampered_body" else body
    with pytest.raises(SignatureInvalid):
        gateway.verify_webhook(inbound(sent, headers))


def test_signed_junk_is_malformed_and_unreadable_events_are_parse_errors(
    sim: ExamplePaySimulator, gateway: ExamplePayGateway
) -> None:
    junk = b"\x00not json"
    with pytest.raises(MalformedBody):
        gateway.verify_webhook(inbound(junk, {"X-ExamplePay-Signature": hmac_hex(sim.webhook_secret, junk)}))
    with pytest.raises(ParseError):
        gateway.parse_webhook(junk)
    with pytest.raises(ParseError):
        gateway.parse_webhook(json.dumps({"id": "evt_1", "type": "refund.updated", "data": {}}).encode())
    assert gateway.parse_webhook(json.dumps({"id": "evt_2", "type": "payment.captured", "data": {}}).encode()) == []
