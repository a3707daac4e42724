"""What the simulator and the SDK put on the wire, checked against Stripe's OpenAPI extract."""

from __future__ import annotations

import pytest
import requests

from gateways.stripe.sim.shapes import parse_form


def _get(sim, path, **params):
    return requests.get(
        f"{sim.url}{path}", params=params, headers={"Authorization": f"Bearer {sim.api_key}"}, timeout=5
    )


def test_bracket_notation_is_decoded():
    pairs = [
        ("metadata[hub_refund_id]", "r-1"),
        ("expand[0]", "a"),
        ("expand[1]", "b"),
        ("tags[]", "x"),
        ("amount", "500"),
    ]
    assert parse_form(pairs) == {
        "metadata": {"hub_refund_id": "r-1"},
        "expand": ["a", "b"],
        "tags": ["x"],
        "amount": "500",
    }


def test_sdk_request_and_simulator_answers_match_the_spec(sim, gateway, execution, spec):
    pi = sim.create_payment(1000, "USD")
    made = gateway.refund(execution(pi, 300, reason="fraud"))
    post = sim.requests[0]
    spec.check_form_request("/v1/refunds", "post", post.params)
    assert post.params["reason"] == "fraudulent"
    one = _get(sim, f"/v1/refunds/{made.gateway_refund_id}")
    spec.check_response("/v1/refunds/{refund}", "get", 200, one.json())
    listed = _get(sim, "/v1/refunds", payment_intent=pi, limit=100)
    spec.check_response("/v1/refunds", "get", 200, listed.json())
    assert [r["id"] for r in listed.json()["data"]] == [made.gateway_refund_id]


@pytest.mark.parametrize(("path", "status"), [("/v1/refunds/re_missing", 404), ("/v1/refunds?limit=1000", 400)])
def test_errors_use_stripe_envelope(sim, spec, path, status):
    answer = requests.get(f"{sim.url}{path}", headers={"Authorization": f"Bearer {sim.api_key}"}, timeout=5)
    assert answer.status_code == status
    spec.check(answer.json()["error"], "api_errors")
    assert answer.headers["Request-Id"].startswith("req_")


def test_injected_faults_use_stripe_envelope(sim, spec):
    for status in (402, 409, 429, 500):
        sim.faults.add("error", status=status, path="^/v1/refunds$")
        answer = requests.post(f"{sim.url}/v1/refunds", headers={"Authorization": f"Bearer {sim.api_key}"}, timeout=5)
        assert answer.status_code == status
        spec.check(answer.json()["error"], "api_errors")


def test_missing_api_key_is_401(sim):
    assert requests.get(f"{sim.url}/v1/refunds", timeout=5).status_code == 401


def test_replay_is_marked_and_validation_errors_are_not_saved(sim):
    pi = sim.create_payment(1000, "USD")
    auth = {"Authorization": f"Bearer {sim.api_key}", "Idempotency-Key": "k-wire"}
    bad = requests.post(f"{sim.url}/v1/refunds", data={"payment_intent": pi, "amount": "-5"}, headers=auth, timeout=5)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "parameter_invalid_integer"
    first = requests.post(f"{sim.url}/v1/refunds", data={"payment_intent": pi, "amount": "5"}, headers=auth, timeout=5)
    again = requests.post(f"{sim.url}/v1/refunds", data={"payment_intent": pi, "amount": "5"}, headers=auth, timeout=5)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers


def test_control_api_seeds_payments_and_dashboard_refunds(sim, gateway):
    seeded = requests.post(
        f"{sim.url}/__sim/payments", json={"amount": 1500, "currency": "JPY", "id": "pi_seeded"}, timeout=5
    ).json()
    assert seeded["id"] == "pi_seeded" and seeded["charge"].startswith("ch_")
    refund = requests.post(f"{sim.url}/__sim/refunds", json={"payment": "pi_seeded", "amount": 500}, timeout=5).json()
    assert refund["id"].startswith("re_")
    state = gateway.payment("pi_seeded")
    assert (state.captured, state.refunded, state.currency) == (1500, 500, "JPY")


def test_expanded_charge_carries_refunds(sim, gateway, execution, spec):
    pi = sim.create_payment(1000, "USD")
    gateway.refund(execution(pi, 100))
    charge = _get(sim, f"/v1/charges/{sim.charge_of(pi)}", **{"expand[0]": "refunds"}).json()
    assert charge["amount_refunded"] == 100 and len(charge["refunds"]["data"]) == 1
    spec.check(charge["refunds"]["data"][0], "refund")
    intent = _get(sim, f"/v1/payment_intents/{pi}").json()
    assert intent["latest_charge"] == sim.charge_of(pi)
