"""Personal data redacted everywhere it lives, reported on request, and not kept forever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hub.contracts import Notice
from hub.pipeline.deliveries import take_notice
from hub.work.janitor import prune

ADMIN = {"Authorization": "Bearer test-admin-token"}


def _refund_of(world: Any, order_id: str, email: str) -> Any:
    payment = world.gateway.create_payment(1000, "USD", payment_id=f"pay-{order_id}")
    world.platform.add_order(order_id, 1000, reference=payment, email=email)
    raw, headers = world.platform.request_refund(order_id, 300, send=False)
    assert world.post(raw, headers).status_code == 200
    raw, headers = world.platform.webhook("customer.updated", {"topic": "customer.updated", "email": email}, send=False)
    assert world.post(raw, headers).status_code == 200  # a delivery no refund came from, naming the customer
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    return next(r for r in world.hub.refunds() if r.order_id == order_id)


def test_a_customer_redaction_empties_the_raw_deliveries_that_carry_them(any_world: Any) -> None:
    world = any_world
    mine = _refund_of(world, "8001", "ana@example.com")
    other = _refund_of(world, "8002", "bob@example.com")
    notice = Notice("redact", world.platform.store_id, "customers/redact", hints={"email": "ana@example.com"})
    assert take_notice(world.hub.hub, "sandbox", notice, None) is None
    refunds = {r.id: r for r in world.hub.refunds()}
    assert refunds[mine.id].customer_email is None
    assert refunds[mine.id].request["customer"] == {"id": None, "email": None}
    assert refunds[other.id].customer_email == "bob@example.com"
    bodies = {d.id: bytes(d.body) for d in world.hub.deliveries()}
    assert bodies[mine.delivery_id] == b"{}"
    assert bodies[other.delivery_id] != b"{}"
    assert not any(b"ana@example.com" in body for body in bodies.values())
    [entry] = [a for a in world.hub.audit() if a.action == "redacted"]
    assert (entry.detail["refunds"], entry.detail["deliveries"]) == (1, 2)


def test_a_store_redaction_empties_every_body_of_the_store(world: Any) -> None:
    _refund_of(world, "8003", "ana@example.com")
    notice = Notice("redact", world.platform.store_id, "shop/redact", hints={"whole_store": True})
    take_notice(world.hub.hub, "sandbox", notice, None)
    assert {bytes(d.body) for d in world.hub.deliveries() if d.connector == "sandbox"} == {b"{}"}
    assert all(r.customer_email is None for r in world.hub.refunds())


def test_a_data_request_produces_the_customers_data_for_the_merchant(world: Any) -> None:
    mine = _refund_of(world, "8004", "ana@example.com")
    _refund_of(world, "8005", "bob@example.com")
    notice = Notice(
        "data_request",
        world.platform.store_id,
        "customers/data_request",
        hints={"email": "Ana@Example.com", "order_ids": ["8004"], "data_request_id": "dr-9"},
    )
    take_notice(world.hub.hub, "sandbox", notice, None)
    [export] = world.hub.client.get("/api/data-exports", headers=ADMIN).json["data_exports"]
    assert (export["store_id"], export["request_ref"]) == (world.platform.store_id, "dr-9")
    assert export["kind"] == "customer_data"
    assert [r["refund_id"] for r in export["content"]["refunds"]] == [mine.id]
    assert export["content"]["refunds"][0]["customer_email"] == "ana@example.com"
    assert any(a.action == "customer_data_reported" for a in world.hub.audit())


def test_dead_letters_are_not_kept_forever(world: Any) -> None:
    raw, headers = world.platform.webhook("refund.requested", {"topic": "refund.requested"}, send=False)
    assert world.post(raw, headers).status_code == 200
    world.hub.settle(senders=[])
    assert [d.status for d in world.hub.deliveries()] == ["dead"]
    hub = world.hub.hub
    prune(hub, datetime.now(UTC) + timedelta(days=hub.config.hub.retention_days + 1))
    assert [d.status for d in world.hub.deliveries()] == ["dead"]  # still visible and replayable
    prune(hub, datetime.now(UTC) + timedelta(days=hub.config.hub.dead_letter_days + 1))
    assert world.hub.deliveries() == []
