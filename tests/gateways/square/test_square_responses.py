"""SquareGateway against respx routes shaped like the examples in Square's spec (squareup uses httpx)."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
import respx

from gateways.square import SquareGateway
from gateways.square.sim.shapes import envelope, error
from hub.contracts import Outcome, RefundLookup

BASE = "https://connect.squareup.test"


@pytest.fixture
def examples(spec):
    schemas = spec.document["components"]["schemas"]
    return {
        name: copy.deepcopy(schemas[name]["example"])
        for name in ("RefundPaymentRequest", "RefundPaymentResponse", "GetPaymentResponse", "GetPaymentRefundResponse")
    }


@pytest.fixture
def square():
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


@pytest.fixture
def adapter():
    return SquareGateway("square-main", {"access_token": "EAAA-test", "base_url": BASE, "max_retries": 0, "timeout": 2})


@pytest.fixture
def execution(make_execution, examples):
    request = examples["RefundPaymentRequest"]
    return make_execution(request["payment_id"], request["amount_money"]["amount"], request["amount_money"]["currency"])


def sent_body(route) -> dict:
    return json.loads(route.calls.last.request.content)


def test_success(square, adapter, execution, examples, spec):
    route = square.post("/v2/refunds").respond(200, json=examples["RefundPaymentResponse"])
    result = adapter.refund(execution)
    assert (result.outcome, result.raw_status) == (Outcome.PENDING, "PENDING")
    assert result.gateway_refund_id == examples["RefundPaymentResponse"]["refund"]["id"]
    assert (result.amount, result.currency) == (1000, "USD")
    body = sent_body(route)
    spec.check_request("/v2/refunds", "post", body)
    assert body["idempotency_key"] == execution.idempotency_key
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer EAAA-test"
    assert "Square-Version" in request.headers


def test_200_with_errors_and_failed_refund(square, adapter, execution, examples, spec):
    answer = examples["RefundPaymentResponse"]
    answer["refund"]["status"] = "FAILED"
    answer["errors"] = [{"category": "REFUND_ERROR", "code": "REFUND_DECLINED", "detail": "Refund declined."}]
    spec.check_response("/v2/refunds", "post", 200, answer)
    square.post("/v2/refunds").respond(200, json=answer)
    result = adapter.refund(execution)
    assert (result.outcome, result.code, result.message) == (Outcome.FAILED, "REFUND_DECLINED", "Refund declined.")
    assert result.gateway_refund_id == answer["refund"]["id"]


@pytest.mark.parametrize(
    ("status", "category", "code", "outcome"),
    [
        pytest.param(200, "REFUND_ERROR", "PAYMENT_NOT_REFUNDABLE", Outcome.FAILED, id="200-errors-no-refund"),
        pytest.param(400, "REFUND_ERROR", "REFUND_AMOUNT_INVALID", Outcome.FAILED, id="400-amount-invalid"),
        pytest.param(400, "REFUND_ERROR", "REFUND_ALREADY_PENDING", Outcome.FAILED, id="400-already-pending"),
        pytest.param(403, "AUTHENTICATION_ERROR", "INSUFFICIENT_PERMISSIONS_FOR_REFUND", Outcome.FAILED, id="403"),
        pytest.param(429, "RATE_LIMIT_ERROR", "RATE_LIMITED", Outcome.UNAVAILABLE, id="429"),
        pytest.param(500, "API_ERROR", "INTERNAL_SERVER_ERROR", Outcome.UNKNOWN, id="500"),
    ],
)
def test_error_envelopes(square, adapter, execution, spec, status, category, code, outcome):
    detail = "The requested refund amount exceeds the amount available to refund."
    body = envelope(error(category, code, detail, "amount_money.amount"))
    spec.check(body["errors"][0], "Error")
    square.post("/v2/refunds").respond(status, json=body)
    result = adapter.refund(execution)
    assert (result.outcome, result.code, result.message) == (outcome, code, detail)


def test_500_without_json_body(square, adapter, execution):
    square.post("/v2/refunds").respond(502, text="<html>bad gateway</html>")
    assert adapter.refund(execution).outcome is Outcome.UNKNOWN


def test_2xx_that_is_not_json_is_unknown(square, adapter, execution):
    square.post("/v2/refunds").respond(200, text="")
    assert adapter.refund(execution).outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("exception", "outcome"),
    [
        (httpx.ConnectError("connection refused"), Outcome.UNAVAILABLE),
        (httpx.ConnectTimeout("connect timed out"), Outcome.UNAVAILABLE),
        (httpx.ReadTimeout("read timed out"), Outcome.UNKNOWN),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), Outcome.UNKNOWN),
        (httpx.ReadError("connection reset by peer"), Outcome.UNKNOWN),
        (httpx.WriteError("broken pipe"), Outcome.UNKNOWN),
    ],
)
def test_transport_errors(square, adapter, execution, exception, outcome):
    square.post("/v2/refunds").mock(side_effect=exception)
    result = adapter.refund(execution)
    assert (result.outcome, result.code) == (outcome, type(exception).__name__)


def test_payment_state_from_the_spec_examples(square, adapter, examples):
    payment = examples["GetPaymentResponse"]["payment"]
    refund = examples["GetPaymentRefundResponse"]["refund"]
    payment["refund_ids"] = [refund["id"]]
    payment["refunded_money"] = {"amount": 555, "currency": "USD"}
    square.get(f"/v2/payments/{payment['id']}").respond(200, json={"payment": payment})
    square.get(f"/v2/refunds/{refund['id']}").respond(200, json={"refund": refund})
    square.get("/v2/disputes").respond(200, json={})  # ListDisputes: none (an empty page has no fields)
    state = adapter.payment(payment["id"])
    assert (state.captured, state.refunded, state.currency, state.disputed) == (555, 555, "USD", False)
    assert [r.outcome for r in state.refunds] == [Outcome.SUCCEEDED]


def test_get_refund_by_id_from_the_spec_example(square, adapter, examples):
    refund = examples["GetPaymentRefundResponse"]["refund"]
    square.get(f"/v2/refunds/{refund['id']}").respond(200, json=examples["GetPaymentRefundResponse"])
    found = adapter.get_refund(
        RefundLookup(
            hub_refund_id="rf_x",
            idempotency_key="k",
            payment_reference=refund["payment_id"],
            amount=555,
            currency="USD",
            gateway_refund_id=refund["id"],
        )
    )
    assert found is not None and (found.outcome, found.amount) == (Outcome.SUCCEEDED, 555)
