"""What the SDK sends and the simulator answers, checked against Square's OpenAPI extract."""

from __future__ import annotations

import json

from hub.contracts import Outcome

DOCUMENTED = {
    ("POST", "/v2/refunds"): "/v2/refunds",
    ("GET", "/v2/refunds/"): "/v2/refunds/{refund_id}",
    ("GET", "/v2/payments/"): "/v2/payments/{payment_id}",
    ("GET", "/v2/disputes"): "/v2/disputes",  # the payment lookup's dispute check (square_disputes.json)
}


def spec_path(method: str, path: str) -> str | None:
    for (verb, prefix), template in DOCUMENTED.items():
        if verb == method and (path == prefix or (prefix.endswith("/") and path.startswith(prefix))):
            return template
    return None


def exercise(sim, gateway, make_execution, lookup_for) -> None:
    payment = sim.create_payment(5000, "USD")
    execution = make_execution(payment, 1000, order_id="1001")
    made = gateway.refund(execution)
    gateway.refund(execution)  # replay
    gateway.refund(make_execution(payment, 1000, idempotency_key=execution.idempotency_key, order_id="1002"))
    gateway.refund(make_execution(payment, 9000))  # over-refund
    sim.declined_inline = 1
    gateway.refund(make_execution(payment, 100))  # 200 with errors
    gateway.get_refund(lookup_for(execution, made.gateway_refund_id))
    gateway.get_refund(lookup_for(execution))
    gateway.payment(payment)
    gateway.refund(make_execution("missing", 100))


def test_every_exchange_matches_the_spec(sim, gateway, make_execution, lookup_for, spec, disputes_spec):
    exercise(sim, gateway, make_execution, lookup_for)
    checked = 0
    for exchange in sim.exchanges:
        template = spec_path(exchange.method, exchange.path)
        assert template, f"undocumented call {exchange.method} {exchange.path}"
        if template.startswith("/v2/disputes"):
            disputes_spec.check_response(template, "get", exchange.status, exchange.response)
            checked += 1
            continue
        if exchange.method == "POST":
            spec.check_request(template, "post", exchange.request)
        if exchange.status == 200:
            spec.check_response(template, exchange.method.lower(), 200, exchange.response)
        else:
            assert set(exchange.response) == {"errors"}
            for error in exchange.response["errors"]:
                spec.check(error, "Error")
        checked += 1
    statuses = {x.status for x in sim.exchanges}
    assert checked >= 9 and {200, 400, 404} <= statuses


def test_declined_inline_answer_has_both_refund_and_errors(sim, gateway, make_execution, spec):
    sim.declined_inline = 1
    result = gateway.refund(make_execution(sim.create_payment(500, "USD"), 100))
    assert result.outcome is Outcome.FAILED
    answer = sim.exchanges[-1].response
    assert answer["refund"]["status"] == "FAILED" and answer["errors"][0]["code"] == "REFUND_DECLINED"
    spec.check(answer, "RefundPaymentResponse")


def test_notifications_match_the_event_schemas(sim, gateway, make_execution, inbox, eventually, spec):
    sim.ledger.settle_after = 0.05
    made = gateway.refund(make_execution(sim.create_payment(500, "USD"), 100))

    def created_and_updated():
        mine = [item for item in inbox.received if made.gateway_refund_id.encode() in item.body]
        return mine if len(mine) == 2 else None

    mine = eventually(created_and_updated)
    assert mine
    schemas = {"refund.created": "RefundCreatedEvent", "refund.updated": "RefundUpdatedEvent"}
    for item in mine:
        payload = json.loads(item.body)
        spec.check(payload, schemas[payload["type"]])
        spec.check(payload["data"]["object"]["refund"], "PaymentRefund")


def test_refund_list_entries_are_payment_refunds(sim, gateway, make_execution, spec):
    import requests

    gateway.refund(make_execution(sim.create_payment(500, "USD"), 100))
    answer = requests.get(
        f"{sim.url}/v2/refunds", params={"limit": 2}, headers={"Authorization": f"Bearer {sim.access_token}"}, timeout=5
    ).json()
    assert 1 <= len(answer["refunds"]) <= 2
    for refund in answer["refunds"]:
        spec.check(refund, "PaymentRefund")
