"""What the SDK sends and what the simulator answers, checked against PayPal's OpenAPI extracts."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from hub.testing.signing import inbound

# simulator path -> (spec, path template); Orders v2, authorizations and the token endpoint
# are not in the extracts and are not checked here.
ROUTES = [
    (r"^/v2/payments/captures/[^/]+/refund$", "v2", "/v2/payments/captures/{capture_id}/refund"),
    (r"^/v2/payments/captures/[^/]+$", "v2", "/v2/payments/captures/{capture_id}"),
    (r"^/v2/payments/refunds/[^/]+$", "v2", "/v2/payments/refunds/{refund_id}"),
    (r"^/v1/payments/sale/[^/]+/refund$", "v1", "/v1/payments/sale/{sale_id}/refund"),
    (r"^/v1/payments/sale/[^/]+$", "v1", "/v1/payments/sale/{sale_id}"),
    (r"^/v1/payments/refund/[^/]+$", "v1", "/v1/payments/refund/{refund_id}"),
    (r"^/v1/notifications/verify-webhook-signature$", "webhook", "/v1/notifications/verify-webhook-signature"),
]
UNDOCUMENTED_STATUSES = {429}  # RATE_LIMIT_REACHED is PayPal's documented 429, absent from the extract


def _check(specs: dict[str, Any], exchange: dict[str, Any], requests: bool = True) -> bool:
    for pattern, name, template in ROUTES:
        if not re.match(pattern, exchange["path"]):
            continue
        spec, method = specs[name], exchange["method"]
        if requests and method == "POST" and exchange["body"].strip():
            spec.check_request(template, method, json.loads(exchange["body"]))
        if exchange["response"].strip() and exchange["status"] not in UNDOCUMENTED_STATUSES:
            spec.check_response(template, method, exchange["status"], json.loads(exchange["response"]))
        return True
    return False


@pytest.fixture
def specs(v2_spec, v1_spec, webhook_spec) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"v2": v2_spec, "v1": v1_spec, "webhook": webhook_spec}


def test_traffic_matches_the_specs(sim, gateway, execution, as_lookup, specs) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    made = execution(capture, 2500)
    refund = gateway.refund(made)
    gateway.refund(made)  # replay
    gateway.refund(execution(capture, 99999))  # REFUND_AMOUNT_EXCEEDED
    gateway.refund(execution(capture, 0, full_refund=True))
    gateway.refund(execution(capture, 1))  # CAPTURE_FULLY_REFUNDED
    gateway.refund(execution("NOSUCHCAPTURE0001", 100))  # 404 INVALID_RESOURCE_ID
    gateway.get_refund(as_lookup(made, gateway_refund_id=refund.gateway_refund_id))
    gateway.payment(capture)
    other = sim.create_payment(5000, "JPY")
    gateway.refund(execution(other, 500, "JPY", hub_refund_id=made.hub_refund_id))  # DUPLICATE_INVOICE_ID
    for status in (409, 500, 503):
        sim.faults.add("error", status=status, path=r"/refund$")
        gateway.refund(execution(other, 100, "JPY"))
    sale = sim.create_payment(10000, "USD", kind="sale")
    v1 = execution(sale, 2000, payment_extra={"paypal_api": "v1"})
    sale_refund = gateway.refund(v1)
    gateway.refund(v1)
    gateway.refund(execution(sale, 99999, payment_extra={"paypal_api": "v1"}))
    gateway.get_refund(as_lookup(v1, gateway_refund_id=sale_refund.gateway_refund_id))
    body, headers = sim.outbox[0]
    gateway.verify_webhook(inbound(body, headers))
    checked = [e for e in sim.exchanges if _check(specs, e)]
    assert len(checked) >= 15
    assert {e["status"] for e in checked} >= {200, 201, 404, 409, 422, 500, 503}


def test_simulator_refusals_match_the_spec(sim, gateway, specs) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(5000, "JPY")
    token = gateway.api.tokens.bearer()
    for amount in (
        {"currency_code": "JPY", "value": "5.5"},
        {"currency_code": "USD", "value": "5"},
        {"currency_code": "JPY", "value": "-5"},
        {"currency_code": "JPY", "value": "five"},
    ):
        gateway.api.session.post(
            f"{sim.url}/v2/payments/captures/{capture}/refund",
            json={"amount": amount},
            headers={"Authorization": f"Bearer {token}"},
        )
    gateway.api.session.post(
        f"{sim.url}/v2/payments/captures/{capture}/refund", headers={"Authorization": "Bearer nope"}
    )
    issues = []
    for exchange in sim.exchanges:
        _check(specs, exchange, requests=False)  # the requests break the spec on purpose
        issues += [d["issue"] for d in json.loads(exchange["response"] or "{}").get("details", [])]
    assert issues == [
        "DECIMALS_NOT_SUPPORTED",
        "REFUND_CAPTURE_CURRENCY_MISMATCH",
        "CANNOT_BE_ZERO_OR_NEGATIVE",
        "INVALID_PARAMETER_SYNTAX",
    ]
    assert sim.exchanges[-1]["status"] == 401


def test_response_fixtures_match_the_spec(v2_spec, v1_spec) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "paypal"

    def load(name: str) -> Any:
        return json.loads((fixtures / name).read_text())

    refund_path = "/v2/payments/captures/{capture_id}/refund"
    v2_spec.check_response(refund_path, "post", 201, load("refund_201.json"))
    v2_spec.check_response(refund_path, "post", 422, load("refund_422_capture_fully_refunded.json"))
    v2_spec.check(load("refund_500.json"), "error_500")
    v1_spec.check_response("/v1/payments/sale/{sale_id}/refund", "post", 201, load("sale_refund_201.json"))
