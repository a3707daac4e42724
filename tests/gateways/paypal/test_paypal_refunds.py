"""paypal-server-sdk against the simulator: refunds, idempotency, declines, currencies, voids, v1 sales."""

from __future__ import annotations

import json

import pytest

from hub.contracts import Outcome
from hub.errors import PlatformError


def _refund_posts(sim, payment):  # type: ignore[no-untyped-def]
    # the simulator is shared by the session: a late request of an earlier test must not count here
    return [e for e in sim.exchanges if e["method"] == "POST" and e["path"].endswith(f"/{payment}/refund")]


def test_partial_then_full_refund(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    partial = gateway.refund(execution(capture, 2500))
    rest = gateway.refund(execution(capture, 0, full_refund=True))
    assert (partial.outcome, partial.amount, partial.currency, partial.raw_status) == (
        Outcome.SUCCEEDED,
        2500,
        "USD",
        "COMPLETED",
    )
    assert (rest.outcome, rest.amount) == (Outcome.SUCCEEDED, 7500)
    sent = [json.loads(e["body"]) for e in _refund_posts(sim, capture)]
    assert sent[1] == {
        "custom_id": sent[1]["custom_id"],
        "invoice_id": sent[1]["invoice_id"],
    }  # no amount: all that is left
    state = gateway.payment(capture)
    assert (state.captured, state.refunded, state.currency) == (10000, 10000, "USD")
    assert {r.gateway_refund_id for r in state.refunds} == {partial.gateway_refund_id, rest.gateway_refund_id}


def test_request_carries_key_representation_and_hub_id(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(5000, "USD")
    made = execution(capture, 1234)
    gateway.refund(made)
    [post] = _refund_posts(sim, capture)
    assert post["headers"]["Paypal-Request-Id"] == made.idempotency_key
    assert post["headers"]["Prefer"] == "return=representation"
    assert json.loads(post["body"]) == {
        "amount": {"currency_code": "USD", "value": "12.34"},
        "custom_id": made.hub_refund_id,
        "invoice_id": made.hub_refund_id,
    }


def test_same_key_replays_the_first_refund(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    made = execution(capture, 3000)
    first, second = gateway.refund(made), gateway.refund(made)
    assert first.gateway_refund_id == second.gateway_refund_id and second.outcome is Outcome.SUCCEEDED
    assert len(sim.ledger.refunds_of(capture)) == 1
    assert gateway.payment(capture).refunded == 3000


def test_key_reused_by_another_hub_refund_moves_nothing(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    gateway.refund(execution(capture, 3000, idempotency_key="shared-key"))
    other = gateway.refund(execution(capture, 1000, idempotency_key="shared-key"))
    assert (other.outcome, other.code) == (Outcome.FAILED, "IDEMPOTENCY_KEY_REUSED")
    assert gateway.payment(capture).refunded == 3000


def test_key_reused_with_another_amount_is_unknown(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    made = execution(capture, 3000)
    gateway.refund(made)
    changed = gateway.refund(
        execution(capture, 4000, hub_refund_id=made.hub_refund_id, idempotency_key=made.idempotency_key)
    )
    assert (changed.outcome, changed.code, changed.amount) == (Outcome.UNKNOWN, "IDEMPOTENCY_KEY_REUSED", 3000)
    assert gateway.payment(capture).refunded == 3000


def test_hub_id_reused_under_a_new_key_is_unknown(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    first, second = sim.create_payment(10000, "USD"), sim.create_payment(10000, "USD")
    made = gateway.refund(execution(first, 1000, hub_refund_id="rf_twice", idempotency_key="key-a"))
    assert made.outcome is Outcome.SUCCEEDED
    again = gateway.refund(execution(second, 1000, hub_refund_id="rf_twice", idempotency_key="key-b"))
    assert (again.outcome, again.code) == (
        Outcome.UNKNOWN,
        "DUPLICATE_INVOICE_ID",
    )  # that hub refund already moved money
    assert gateway.payment(second).refunded == 0


def test_control_api_seeds_payments_and_dashboard_refunds(sim, gateway) -> None:  # type: ignore[no-untyped-def]
    session = gateway.api.session
    created = session.post(f"{sim.url}/__sim/payments", json={"amount": 5000, "currency": "EUR"})
    capture = created.json()["id"]
    named = session.post(
        f"{sim.url}/__sim/payments", json={"amount": 700, "currency": "JPY", "id": "MYCAPTURE00000001"}
    )
    assert (created.status_code, named.json()["id"]) == (201, "MYCAPTURE00000001")
    session.post(f"{sim.url}/__sim/refunds", json={"payment_id": capture, "amount": 1500})
    state = gateway.payment(capture)
    assert (state.captured, state.refunded, state.currency) == (5000, 1500, "EUR")


def test_over_refund_and_fully_refunded_are_declined(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(1000, "USD")
    too_much = gateway.refund(execution(capture, 1001))
    assert (too_much.outcome, too_much.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEEDED")
    assert "not yet been refunded" in (too_much.message or "")
    gateway.refund(execution(capture, 1000))
    again = gateway.refund(execution(capture, 1))
    assert (again.outcome, again.code) == (Outcome.FAILED, "CAPTURE_FULLY_REFUNDED")


def test_disputed_capture_is_declined_and_reported(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(1000, "USD")
    sim.dispute(capture)
    result = gateway.refund(execution(capture, 100))
    assert (result.outcome, result.code) == (Outcome.FAILED, "TRANSACTION_DISPUTED")
    assert gateway.payment(capture).disputed is True


def test_unknown_capture_is_declined(gateway, execution) -> None:  # type: ignore[no-untyped-def]
    result = gateway.refund(execution("NOSUCHCAPTURE0001", 100))
    assert (result.outcome, result.code) == (Outcome.FAILED, "INVALID_RESOURCE_ID")


@pytest.mark.parametrize(
    ("currency", "captured", "refund", "wire"),
    [
        ("USD", 10000, 1050, "10.50"),
        ("JPY", 5000, 500, "500"),
        ("KWD", 10000, 1250, "1.250"),
        ("HUF", 500000, 150000, "1500"),
    ],
)
def test_currency_amounts_on_the_wire(sim, gateway, execution, currency, captured, refund, wire) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(captured, currency)
    result = gateway.refund(execution(capture, refund, currency))
    assert (result.outcome, result.amount, result.currency) == (Outcome.SUCCEEDED, refund, currency)
    [post] = _refund_posts(sim, capture)
    assert json.loads(post["body"])["amount"] == {"currency_code": currency, "value": wire}
    state = gateway.payment(capture)
    assert (state.captured, state.refunded) == (captured, refund)


def test_huf_with_filler_is_refused_before_any_call(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(500000, "HUF")
    result = gateway.refund(execution(capture, 150050, "HUF"))
    assert (result.outcome, result.code) == (Outcome.FAILED, "DECIMALS_NOT_SUPPORTED")
    assert "1500.50 HUF" in (result.message or "")
    assert _refund_posts(sim, capture) == []


def test_simulator_refuses_decimals_for_jpy(sim, gateway) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(5000, "JPY")
    token = gateway.api.tokens.bearer()
    answer = gateway.api.session.post(
        f"{sim.url}/v2/payments/captures/{capture}/refund",
        json={"amount": {"currency_code": "JPY", "value": "5.5"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 422
    assert answer.json()["details"][0]["issue"] == "DECIMALS_NOT_SUPPORTED"


def test_dashboard_refund_counts_in_payment(sim, gateway) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    sim.add_dashboard_refund(capture, 4000)
    state = gateway.payment(capture)
    assert (state.refunded, len(state.refunds)) == (4000, 1)


def test_payment_without_order_uses_status_or_latest_refund(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    assert gateway.payment(capture, {"paypal_order_id": ""}).refunded == 0
    made = gateway.refund(execution(capture, 2500))
    # the order is unknown to the adapter here; the latest refund's running total answers
    sim.ledger.payment(capture).extra["order_id"] = "UNKNOWNORDER00001"
    state = gateway.payment(capture, {"paypal_latest_refund_id": made.gateway_refund_id or ""})
    assert state.refunded == 2500


def test_uncaptured_authorization_is_voided(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    authorization = sim.create_payment(8000, "USD", kind="authorization")
    extra = {"intent": "AUTHORIZE", "captured": "false"}
    partial = gateway.refund(execution(authorization, 3000, payment_extra=extra))
    assert (partial.outcome, partial.code) == (Outcome.FAILED, "PARTIAL_VOID_NOT_SUPPORTED")
    made = execution(authorization, 8000, payment_extra=extra)
    voided = gateway.refund(made)
    assert (voided.outcome, voided.gateway_refund_id, voided.amount, voided.raw_status) == (
        Outcome.SUCCEEDED,
        authorization,
        8000,
        "VOIDED",
    )
    assert gateway.refund(made).outcome is Outcome.SUCCEEDED  # same key: replayed
    again = gateway.refund(execution(authorization, 0, payment_extra=extra, full_refund=True))
    assert (again.outcome, again.code) == (Outcome.SUCCEEDED, "PREVIOUSLY_VOIDED")
    state = gateway.payment(authorization, extra)
    assert (state.captured, state.refunded) == (8000, 8000)
    [void] = [e for e in sim.exchanges if e["path"].endswith("/void")][:1]
    assert void["headers"]["Paypal-Request-Id"] == made.idempotency_key


def test_captured_authorize_intent_is_refunded(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(8000, "USD")
    result = gateway.refund(execution(capture, 1000, payment_extra={"intent": "AUTHORIZE", "captured": "true"}))
    assert result.outcome is Outcome.SUCCEEDED and _refund_posts(sim, capture)


def test_v1_sale_refund(sim, gateway, execution, as_lookup) -> None:  # type: ignore[no-untyped-def]
    sale = sim.create_payment(10000, "USD", kind="sale")
    made = execution(sale, 2000, payment_extra={"paypal_api": "v1"})
    result = gateway.refund(made)
    assert (result.outcome, result.amount, result.raw_status) == (Outcome.SUCCEEDED, 2000, "completed")
    assert gateway.refund(made).gateway_refund_id == result.gateway_refund_id
    [post, replay] = _refund_posts(sim, sale)
    assert post["path"] == f"/v1/payments/sale/{sale}/refund" and (post["status"], replay["status"]) == (201, 200)
    assert post["headers"]["Paypal-Request-Id"] == made.idempotency_key
    assert json.loads(post["body"]) == {
        "invoice_number": made.hub_refund_id,
        "amount": {"total": "20.00", "currency": "USD"},
    }
    state = gateway.payment(sale, {"paypal_api": "v1", "paypal_latest_refund_id": result.gateway_refund_id or ""})
    assert (state.captured, state.refunded) == (10000, 2000)
    found = gateway.get_refund(as_lookup(made, gateway_refund_id=result.gateway_refund_id))
    assert found is not None and found.outcome is Outcome.SUCCEEDED
    assert gateway.get_refund(as_lookup(made)) is None  # a sale lists no refunds: the hub re-sends with the key
    over = gateway.refund(execution(sale, 9000, payment_extra={"paypal_api": "v1"}))
    assert (over.outcome, over.code) == (Outcome.FAILED, "REFUND_EXCEEDED_TRANSACTION_AMOUNT")


def test_auto_falls_back_to_v1_only_on_not_found(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    sale = sim.create_payment(10000, "USD", kind="sale")
    result = gateway.refund(execution(sale, 2000, payment_extra={"paypal_api": "auto"}))
    assert result.outcome is Outcome.SUCCEEDED
    assert [e["path"] for e in _refund_posts(sim, sale)] == [
        f"/v2/payments/captures/{sale}/refund",
        f"/v1/payments/sale/{sale}/refund",
    ]
    capture = sim.create_payment(10000, "USD")
    declined = gateway.refund(execution(capture, 20000, payment_extra={"paypal_api": "auto"}))
    assert declined.code == "REFUND_AMOUNT_EXCEEDED"
    assert not any(e["path"] == f"/v1/payments/sale/{capture}/refund" for e in _refund_posts(sim, capture))
    with pytest.raises(PlatformError, match="paypal_latest_refund_id"):  # a partly refunded sale lists nothing
        gateway.payment(sale, {"paypal_api": "auto"})


def test_bad_credentials_are_declined_and_nothing_is_sent(sim, make_gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(1000, "USD")
    adapter = make_gateway(sim, client_secret="wrong")
    result = adapter.refund(execution(capture, 100))
    assert (result.outcome, result.code) == (Outcome.FAILED, "AUTHENTICATION_FAILURE")
    assert "Client Authentication failed" in (result.message or "")
    assert _refund_posts(sim, capture) == []


def test_revoked_token_is_renewed_and_the_refund_sent_once_more(sim, gateway, execution) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(1000, "USD")
    assert gateway.refund(execution(capture, 100)).outcome is Outcome.SUCCEEDED
    sim.revoke_tokens()
    # The 401 is refused before anything happens: a new token and the same request, not a decline.
    renewed = gateway.refund(execution(capture, 100))
    assert renewed.outcome is Outcome.SUCCEEDED
    assert [e["status"] for e in _refund_posts(sim, capture)] == [201, 401, 201]
    assert gateway.refund(execution(capture, 100)).outcome is Outcome.SUCCEEDED
    assert len([e for e in sim.exchanges if e["path"] == "/v1/oauth2/token"]) == 2
