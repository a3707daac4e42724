"""Stripe, PayPal and Square through the whole hub: a platform order paid at the gateway's
simulator, the refund asked for on the platform, and the money moved exactly once whatever the
gateway does to the hub (lost responses, 5xx storms, pending refunds, dashboard refunds)."""

from __future__ import annotations

from hub.ledger import states
from tests.gateways.conftest import GatewayWorld


def test_refund_done_but_response_lost_is_resolved_by_the_janitor(world: GatewayWorld) -> None:
    w = world
    payment = w.order("5001", 4000)
    w.sim.faults.add("lost_response", method="POST", path=w.case.refund_post)
    w.ask("5001", 4000, request_id="rq-lost")
    w.settle(sweep=False)  # the worker alone: it cannot know whether the refund happened
    refund = w.refund("rq-lost")
    assert refund.state == states.UNKNOWN
    assert len(w.gateway_refunds(payment)) == 1  # ...but the gateway did it

    w.settle()  # the janitor asks the gateway (get_refund) and finds it
    refund = w.refund("rq-lost")
    [at_gateway] = w.gateway_refunds(payment)
    assert refund.state == states.WRITTEN_BACK
    assert refund.gateway_refund_id == at_gateway.id
    assert at_gateway.key == refund.idempotency_key and at_gateway.status == "succeeded"
    assert w.sent_keys == [refund.idempotency_key]  # found, not re-sent
    assert w.executor_results(refund.id) == [("worker", "unknown"), ("janitor", "succeeded")]
    [record] = w.platform.refunds["5001"]
    assert (record["hub_refund_id"], record["gateway_refund_id"]) == (refund.id, at_gateway.id)
    assert record["api_refund"] is False and w.platform.money_moves == []


def test_5xx_storm_is_retried_with_the_same_key_and_refunds_once(world: GatewayWorld) -> None:
    w = world
    payment = w.order("5002", 2500)
    w.sim.faults.add("error", status=500, times=2, method="POST", path=w.case.refund_post)
    w.sim.faults.add("error", status=503, times=2, method="POST", path=w.case.refund_post)
    w.ask("5002", 2500, request_id="rq-storm")
    w.settle(until=w.in_state("rq-storm", states.WRITTEN_BACK))
    refund = w.refund("rq-storm")
    [at_gateway] = w.gateway_refunds(payment)
    assert refund.state == states.WRITTEN_BACK
    assert refund.gateway_refund_id == at_gateway.id and at_gateway.amount == 2500
    assert w.sent_keys == [refund.idempotency_key] * 5  # four errors, then the one that worked
    assert w.actions(refund.id).count("resend_same_key") == 4
    assert [r["hub_refund_id"] for r in w.platform.refunds["5002"]] == [refund.id]


def test_pending_refund_settles_through_the_signed_status_webhook(world: GatewayWorld) -> None:
    w = world
    w.send_status_webhooks()
    w.sim.ledger.settle_after = 0.2
    payment = w.order("5003", 1500)
    w.ask("5003", 1500, request_id="rq-pending")
    # no janitor: only the gateway's webhook can tell the hub the pending refund is done
    w.settle(sweep=False, until=w.in_state("rq-pending", states.WRITTEN_BACK))
    refund = w.refund("rq-pending")
    [at_gateway] = w.gateway_refunds(payment)
    assert refund.gateway_refund_id == at_gateway.id and at_gateway.status == "succeeded"
    assert w.executor_results(refund.id) == [("worker", "pending"), (f"gateway:{w.case.account}", "succeeded")]
    assert all(d.status == "done" for d in w.hub.deliveries())


def test_dashboard_refund_is_recorded_once_and_counts_against_the_balance(world: GatewayWorld) -> None:
    w = world
    w.send_status_webhooks()
    payment = w.order("5004", 9000)
    w.ask("5004", 1000, request_id="rq-first")
    w.settle(until=w.in_state("rq-first", states.WRITTEN_BACK))

    dashboard_id = w.case.dashboard_refund(w.sim, payment, 2000)  # the merchant, outside the hub
    w.settle(until=lambda: any(r.kind == "recorded" for r in w.hub.refunds()))
    for sent in list(w.sim.sender.history):  # every status webhook delivered a second time
        w.sim.sender.send(sent.url, sent.body, sent.headers)
    w.settle()
    recorded = [r for r in w.hub.refunds() if r.kind == "recorded"]
    assert [(r.state, r.amount, r.gateway_refund_id, r.money_moved) for r in recorded] == [
        (states.RECORDED, 2000, dashboard_id, True)
    ]
    assert "executing" not in w.actions(recorded[0].id)  # recorded, never executed
    assert recorded[0].connector == w.refund("rq-first").connector  # the store's: its people see it
    assert w.sent_keys == [w.refund("rq-first").idempotency_key]

    # the hub's balance holds both refunds once each: exactly the rest can still be refunded
    w.ask("5004", 6000, request_id="rq-rest")
    w.settle(until=w.in_state("rq-rest", states.WRITTEN_BACK))
    assert sum(r.amount for r in w.gateway_refunds(payment)) == 9000
    assert len(w.gateway_refunds(payment)) == 3
    assert sorted((r.kind, r.state, r.amount) for r in w.hub.refunds()) == [
        ("recorded", states.RECORDED, 2000),
        ("requested", states.WRITTEN_BACK, 1000),
        ("requested", states.WRITTEN_BACK, 6000),
    ]
