"""Webhook health against the simulator: disabled, paused and missing webhooks repaired, an unreachable
store reported."""

from __future__ import annotations

from typing import Any

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.sim import WooCommerceSimulator
from hub.contracts import StoreContext

from .conftest import Wait


def test_check_webhooks_re_enables_disabled_and_paused(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    sim.set_webhook_status(1, "disabled")
    sim.set_webhook_status(2, "paused")
    problems = connector.check_webhooks(store)
    assert problems == [
        "webhook 1 (order.updated) was disabled: re-enabled",
        "webhook 2 (action.woocommerce_order_refunded) was paused: re-enabled",
    ]
    assert {h["status"] for h in sim.shop.webhooks.values()} == {"active"}
    assert [w["body"] for w in sim.writes if w["method"] == "PUT"] == [{"status": "active"}] * 2
    assert connector.check_webhooks(store) == []


def test_webhook_disabled_by_failed_deliveries_is_repaired(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    hub_side.answer = 500
    for status in ("on-hold", "processing") * 4:
        sim.set_status(order["id"], status)
    wait(lambda: sim.shop.webhooks[1]["status"] == "disabled")
    hub_side.answer = None
    assert connector.check_webhooks(store) == ["webhook 1 (order.updated) was disabled: re-enabled"]
    sim.add_manual_refund(order["id"], "1.00")
    wait(lambda: hub_side.verified("order.updated"))


def test_missing_webhook_is_created_and_pinged(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    del sim.shop.webhooks[3]
    assert connector.check_webhooks(store) == ["webhook 4 (action.woocommerce_refund_created) was missing: created"]
    created = sim.shop.webhooks[4]
    assert created["topic"] == "action.woocommerce_refund_created" and created["secret"] == sim.webhook_secret
    port = sim.url.rsplit(":", 1)[1]
    assert created["delivery_url"] == f"{hub_side.url}/webhooks/woocommerce?store=http%3A%2F%2F127.0.0.1%3A{port}"
    [(_, ping)] = wait(lambda: hub_side.verified("ping"))
    assert ping.ack_only and ping.store_id == store.id


def test_unreachable_store_is_reported(connector: WooCommerceConnector, store: StoreContext) -> None:
    gone = StoreContext(
        id=store.id, connector="woocommerce", settings={"url": "http://127.0.0.1:9"}, credentials=store.credentials
    )
    [problem] = connector.check_webhooks(gone)
    assert problem.startswith("webhook for * was unreachable: failed:")
