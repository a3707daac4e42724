"""PayPal's documented shapes through the pure transformers: errors, routes, replays, orders, webhooks.

Rows follow the Payments v2 / v1 extracts in tests/fixtures/specs and the recorded webhook
samples in tests/fixtures/paypal: capture ``status_details.reason`` (disputes), the refund's
``seller_payable_breakdown.total_refunded_amount``, HATEOAS ``links`` (a refund's ``up`` is its
capture, a capture's ``up`` its order), ``supplementary_data.related_ids.order_id``, and the
ids a refund carries back (v2 ``custom_id``/``invoice_id``, v1 ``invoice_number``/``custom``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from gateways.paypal import transformers as tf
from hub.contracts import GatewayEvent, Outcome, RefundResult

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SPEC = json.loads((FIXTURES / "specs" / "paypal_v2_captures_refund.json").read_text())
CAPTURE_REASONS = SPEC["components"]["schemas"]["capture_status_details"]["properties"]["reason"]["enum"]
API = "https://api-m.paypal.com"


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / "paypal" / name).read_text())


def link(rel: str, path: str) -> dict[str, str]:
    return {"href": f"{API}{path}", "rel": rel, "method": "GET"}


# ── error answers ───────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("failure", "outcome"),
    [
        (tf.ApiFailure(status=408), Outcome.UNKNOWN),
        (tf.ApiFailure(status=409, name="RESOURCE_CONFLICT"), Outcome.UNKNOWN),  # error_409, no issue
        (tf.ApiFailure(status=429, name="RATE_LIMIT_REACHED"), Outcome.UNAVAILABLE),
        (tf.ApiFailure(status=410), Outcome.FAILED),
        (tf.ApiFailure(status=499), Outcome.FAILED),
        (tf.ApiFailure(status=302), Outcome.UNKNOWN),  # not an error status: we cannot say
        # "a refund for this may exist", whatever status carries it
        (tf.ApiFailure(status=422, issue="PREVIOUS_REQUEST_IN_PROGRESS"), Outcome.UNKNOWN),
        (tf.ApiFailure(status=400, issue="DUPLICATE_INVOICE_ID"), Outcome.UNKNOWN),
    ],
)
def test_failure_outcomes_beyond_the_issue_table(failure, outcome):
    assert tf.failure_outcome(failure) is outcome


@pytest.mark.parametrize(
    ("failure", "not_found"),
    [
        (tf.ApiFailure(status=404, name="RESOURCE_NOT_FOUND"), True),  # the name alone
        (tf.ApiFailure(status=404, name="NOT_FOUND", issue="INVALID_RESOURCE_ID"), True),  # the issue alone
        (tf.ApiFailure(status=404, name="INVALID_RESOURCE_ID"), True),
        (tf.ApiFailure(status=404, name="UNPROCESSABLE_ENTITY", issue="RESOURCE_NOT_FOUND"), True),
        (tf.ApiFailure(status=404), False),
        (tf.ApiFailure(status=422, issue="INVALID_RESOURCE_ID"), False),
        (tf.ApiFailure(status=400, name="RESOURCE_NOT_FOUND"), False),
    ],
)
def test_not_found_needs_a_404_and_one_of_its_names(failure, not_found):
    assert failure.not_found is not_found


def test_failures_are_values():
    failure = tf.ApiFailure(status=422, issue="REFUND_NOT_ALLOWED")
    assert {failure: 1}[tf.ApiFailure(status=422, issue="REFUND_NOT_ALLOWED")] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        failure.status = 200  # type: ignore[misc]


def test_failure_from_bodies_paypal_sends():
    assert tf.failure_from_body(502, "<html>Bad Gateway</html>") == tf.ApiFailure(status=502)
    assert tf.failure_from_body(502, None).code == "HTTP_502"
    oauth = tf.failure_from_body(401, {"error": "invalid_client", "error_description": "Client Authentication failed"})
    assert (oauth.name, oauth.description, oauth.code) == (
        "invalid_client",
        "Client Authentication failed",
        "invalid_client",
    )
    fully = tf.failure_from_body(422, recorded("refund_422_capture_fully_refunded.json"))
    assert (fully.name, fully.issue, fully.description, fully.debug_id) == (
        "UNPROCESSABLE_ENTITY",
        "CAPTURE_FULLY_REFUNDED",
        "The capture has already been fully refunded",
        "b1d1f06c7246c",
    )


# ── routes ──────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("captured", ["1", "true", "TRUE", "yes", "Yes", "y", "on", " on "])
def test_a_captured_authorization_is_refunded(captured):
    assert tf.route_for({"intent": "AUTHORIZE", "captured": captured}) == tf.V2


@pytest.mark.parametrize("captured", ["0", "false", "no", "n", "off", "", "captured"])
def test_an_uncaptured_authorization_is_voided(captured):
    assert tf.route_for({"intent": "AUTHORIZE", "captured": captured}) == tf.VOID


def test_route_constants_are_distinct():
    assert len({tf.VOID, tf.V1, tf.V2, tf.AUTO}) == 4
    assert tf.route_for({"paypal_api": "V1"}) == tf.V1
    assert tf.route_for({"paypal_api": "v3"}) == tf.V2


# ── replays of a PayPal-Request-Id ──────────────────────────────────────────────────────────────


@pytest.mark.parametrize("owner_key", ["custom_id", "invoice_id", "invoice_number"])
def test_a_replayed_refund_of_another_hub_refund_is_refused(owner_key):
    refund = {"id": "R9", "status": "COMPLETED", owner_key: "rf_other"}
    result = tf.replay_mismatch(tf.v2_refund_result(refund), refund, "rf_mine", 1000)
    assert result is not None
    assert (result.outcome, result.code) == (Outcome.FAILED, "IDEMPOTENCY_KEY_REUSED")
    assert result.message == "the key was already used for hub refund rf_other (PayPal refund R9)"


def test_a_replayed_refund_of_another_amount_is_unknown_and_keeps_what_paypal_said():
    refund = {
        "id": "R9",
        "status": "PENDING",
        "custom_id": "rf_mine",
        "amount": {"value": "7.50", "currency_code": "EUR"},
    }
    result = tf.replay_mismatch(tf.v2_refund_result(refund), refund, "rf_mine", 1000)
    assert result == RefundResult(
        outcome=Outcome.UNKNOWN,
        gateway_refund_id="R9",
        amount=750,
        currency="EUR",
        code="IDEMPOTENCY_KEY_REUSED",
        raw_status="PENDING",
        message="the key was first used for 750, not 1000: look the refund up",
    )


def test_a_replay_of_this_refund_is_no_mismatch():
    refund = recorded("refund_201.json")
    assert tf.replay_mismatch(tf.v2_refund_result(refund), refund, "rf_8d1c2a", 1000) is None
    assert tf.replay_mismatch(tf.v2_refund_result(refund), refund, "rf_8d1c2a", None) is None


# ── links, orders, captures ─────────────────────────────────────────────────────────────────────


def test_link_target_is_the_last_path_segment():
    refund = recorded("refund_201.json")
    assert tf.link_target(refund, "up") == "2GG279541U471931P"
    assert tf.link_target(refund, "self") == "1JU08902781691411"
    assert tf.link_target({"links": [link("up", "/v2/payments/captures/8MC585209K746392X/")]}, "up") == (
        "8MC585209K746392X"  # one trailing slash dropped, nothing else
    )
    assert tf.link_target({"links": [{"rel": "up", "href": "C2"}]}, "up") == "C2"
    assert tf.link_target({"links": [{"rel": "up"}]}, "up") is None
    assert tf.link_target({"links": [{"rel": "up", "href": ""}]}, "up") is None
    assert tf.link_target({"links": [link("up", "/v2/payments/authorizations/A1")]}, "up", "/checkout/orders/") is None
    assert tf.link_target({}, "up") is None


def _order(*refunds: dict[str, Any]) -> dict[str, Any]:
    return {"id": "O1", "purchase_units": [{"payments": {"refunds": list(refunds)}}]}


def test_an_orders_refunds_of_one_capture():
    mine = {"id": "R1", "links": [link("up", "/v2/payments/captures/C1")]}
    other = {"id": "R2", "links": [link("up", "/v2/payments/captures/C2")]}
    unlinked = {"id": "R3"}
    assert tf.order_refunds(_order(mine, other, unlinked), "C1") == [mine, unlinked]


def test_owned_by_finds_the_hub_refund_by_either_id():
    by_custom = {"id": "R1", "custom_id": "rf_a"}
    by_invoice = {"id": "R2", "invoice_id": "rf_b"}
    refunds = [by_custom, by_invoice]
    assert tf.owned_by(refunds, "rf_a") is by_custom
    assert tf.owned_by(refunds, "rf_b") is by_invoice
    assert tf.owned_by(refunds, "rf_c") is None


def test_completed_total_counts_completed_refunds_only():
    refunds = [
        {"status": "COMPLETED", "amount": {"value": "10.00", "currency_code": "USD"}},
        {"status": "COMPLETED", "amount": {"value": "2.50", "currency_code": "USD"}},
        {"status": "COMPLETED"},  # no amount: counts nothing
        {"status": "PENDING", "amount": {"value": "4.00", "currency_code": "USD"}},
        {"status": "CANCELLED", "amount": {"value": "4.00", "currency_code": "USD"}},
    ]
    assert tf.completed_total(refunds) == 1250
    assert tf.completed_total([{"status": "COMPLETED"}]) == 0


def test_related_order_of_a_capture():
    related = {"supplementary_data": {"related_ids": {"order_id": "O5", "authorization_id": "A5"}}}
    assert tf.related_order_id(related) == "O5"
    by_link = {"links": [link("up", "/v2/checkout/orders/O6")]}
    assert tf.related_order_id(by_link) == "O6"
    both = {**related, **by_link}
    assert tf.related_order_id(both) == "O5"
    no_order = {"supplementary_data": {"related_ids": {"authorization_id": "A5"}}, **by_link}
    assert tf.related_order_id(no_order) == "O6"
    authorized = {"links": [link("up", "/v2/payments/authorizations/A7")]}
    assert tf.related_order_id(authorized) is None
    assert tf.related_order_id({"supplementary_data": {}}) is None


def test_running_total_reads_the_v2_breakdown_then_the_v1_field():
    assert tf.running_total(recorded("refund_201.json")) == 1000
    v1 = {"total_refunded_amount": {"value": "3.00", "currency": "USD"}}
    assert tf.running_total(v1) == 300
    assert tf.running_total({}) is None


@pytest.mark.parametrize("reason", CAPTURE_REASONS)
def test_every_capture_reason_and_which_are_disputes(reason):
    assert tf.is_disputed({"status": "PENDING", "status_details": {"reason": reason}}) is (
        reason in ("BUYER_COMPLAINT", "CHARGEBACK")
    )


def test_a_capture_without_details_is_not_disputed():
    assert tf.is_disputed({"status": "COMPLETED"}) is False
    assert {"BUYER_COMPLAINT", "CHARGEBACK"} <= set(CAPTURE_REASONS)


# ── webhooks ────────────────────────────────────────────────────────────────────────────────────


def test_the_recorded_v2_refund_event():
    [event] = tf.webhook_events(recorded("webhook_capture_refunded.json"))
    assert event == GatewayEvent(
        gateway_refund_id="1JU08902781691411",
        outcome=Outcome.SUCCEEDED,
        payment_reference="2GG279541U471931P",
        hub_refund_id="rf_8d1c2a",
        amount=1000,
        currency="USD",
        event_id="WH-1GE84257G0350133W-6RW800890C634293G",
    )


def test_v2_events_take_the_hub_id_from_either_field():
    for field in ("custom_id", "invoice_id"):
        body = {"id": "WH-1", "event_type": "PAYMENT.REFUND.PENDING", "resource": {"id": "R1", field: "rf_x"}}
        [event] = tf.webhook_events(body)
        assert (event.hub_refund_id, event.outcome) == ("rf_x", Outcome.PENDING)


def test_the_recorded_v1_sale_event_and_its_other_forms():
    [event] = tf.webhook_events(recorded("webhook_sale_refunded.json"))
    assert (event.hub_refund_id, event.payment_reference, event.amount, event.currency) == (
        "rf_5e0b7d",
        "2MU78835H4515710F",
        2000,
        "USD",
    )
    resource = {"id": "S1", "state": "completed", "custom": "rf_y", "sale_id": "SALE9"}
    [other] = tf.webhook_events({"event_type": "PAYMENT.SALE.REFUNDED", "resource": resource})
    assert (other.hub_refund_id, other.payment_reference, other.event_id) == ("rf_y", "SALE9", None)
