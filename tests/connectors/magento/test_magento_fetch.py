"""fetch against the simulator over real HTTP with OAuth 1.0a: pushes re-read, normalized, echoes matched."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.magento.client import MagentoClient, MagentoError
from hub.contracts import Notice, StoreContext
from hub.errors import PlatformUnavailable
from hub.models import Ignored, ProductKind, ReasonCode, RefundRecorded, RefundRequested


def seed_catalogue(sim: Any) -> dict[str, Any]:
    sim.add_product("TEE", price=2500, name="Tee")
    sim.add_product("EBOOK", type_id="downloadable", price=900, download_limit=3, name="E-book")
    sim.add_product("SETUP", type_id="virtual", price=4000, name="Setup call", returnable=False)
    return sim.add_order(
        [
            {"sku": "TEE", "price": 2500, "qty": 2, "tax": 400},
            {"sku": "EBOOK", "price": 900},
            {"sku": "SETUP", "price": 4000},
        ],
        method="stripe_payments",
        last_trans_id="pi_3Mtw",
        shipping=500,
    )


def rma_notice(store: StoreContext, rma: dict[str, Any]) -> Notice:
    return Notice(
        "requested",
        store.id,
        "observer.rma_save_after",
        None,
        f"rma:{rma['entity_id']}",
        {"entity": "rma", "id": str(rma["entity_id"])},
    )


def test_rma_push_is_fetched_as_a_request(sim: Any, receiver: Any, wired: Any) -> None:
    connector, store = wired
    order = seed_catalogue(sim)
    tee = next(i for i in order["items"] if i["sku"] == "TEE")
    rma = sim.create_rma(order["entity_id"], {tee["item_id"]: 1}, reason="Wrong Size", comment="too small")
    (notice,) = receiver.wait(f"rma:{rma['entity_id']}")
    assert (notice.kind, notice.source_ref, notice.order_id) == (
        "requested",
        f"rma:{rma['entity_id']}",
        str(order["entity_id"]),
    )
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRequested)
    request = event.request
    assert (request.amount, request.currency, request.reason) == (2700, "USD", ReasonCode.SIZE_OR_FIT)
    assert [(line.sku, line.quantity, line.unit_price, line.tax) for line in request.lines] == [("TEE", 1, 2500, 200)]
    payment = request.primary_payment
    assert (payment.platform_label, payment.reference, payment.captured) == ("stripe_payments", "pi_3Mtw", 10800)
    assert payment.extra["order_id"] == str(order["entity_id"])
    assert request.order.paid_at is not None and request.customer.email == "jane@example.com"


def test_product_kinds_and_digital_facts(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = seed_catalogue(sim)
    rma = sim.create_rma(order["entity_id"])
    event = connector.fetch(store, rma_notice(store, rma))
    assert isinstance(event, RefundRequested)
    lines = {line.sku: line for line in event.request.lines}
    assert lines["EBOOK"].kind is ProductKind.DIGITAL and lines["EBOOK"].usage is not None
    assert lines["EBOOK"].usage.download_limit == 3
    assert lines["SETUP"].kind is ProductKind.SERVICE and lines["SETUP"].final_sale
    assert lines["TEE"].kind is ProductKind.PHYSICAL and not lines["TEE"].final_sale


def test_denied_rma_is_ignored(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 1000}], last_trans_id="pi_1")
    rma = sim.create_rma(order["entity_id"], status="denied")
    event = connector.fetch(store, rma_notice(store, rma))
    assert isinstance(event, Ignored)


def test_online_credit_memo_push_moved_money(sim: Any, receiver: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 1500}], method="braintree", last_trans_id="bt_9")
    memo_id = sim.merchant_refund(order["entity_id"], online=True, comment="customer called")
    memo = sim.state.get(sim.state.creditmemos, memo_id)
    (notice,) = receiver.wait(f"creditmemo:{memo['increment_id']}")
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRecorded) and event.money_moved
    assert event.gateway_refund_id and event.request.amount == 1500 and event.request.hub_refund_id is None
    assert event.request.order.refunded == 0  # this credit memo is not "already refunded before" itself
    assert sim.ledger.refunded("bt_9") == 1500 and memo_id


def test_pushed_credit_memo_without_entity_id(sim: Any, wired: Any) -> None:
    """Adobe's credit memo payload has no entity_id: it is found by its increment_id."""
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 1500}], method="checkmo")
    sim.merchant_refund(order["entity_id"])
    memo = sim.creditmemos(order["entity_id"])[0]
    notice = Notice(
        "recorded",
        store.id,
        "observer.sales_order_creditmemo_save_after",
        None,
        f"creditmemo:{memo['increment_id']}",
        {"entity": "creditmemo", "id": "", "increment_id": memo["increment_id"]},
    )
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRecorded) and not event.money_moved and event.request.amount == 1500
    missing = Notice(
        "recorded",
        store.id,
        notice.topic,
        None,
        "creditmemo:404",
        {"entity": "creditmemo", "id": "", "increment_id": "404"},
    )
    with pytest.raises(PlatformUnavailable):
        connector.fetch(store, missing)


def test_store_code_bearer_and_bad_credentials(kit: Any) -> None:
    sim = kit.start("open_source", store_code="default", allow_bearer=True)
    try:
        order = sim.add_order([{"sku": "TEE", "price": 1000}], last_trans_id="pi_2")
        store = sim.store_context()
        assert "/rest/default/V1" in MagentoClient(store).root
        assert MagentoClient(store).get(f"orders/{order['entity_id']}")["entity_id"] == order["entity_id"]
        bearer = StoreContext(
            id=store.id,
            connector="magento",
            settings=store.settings,
            credentials={"bearer_token": store.credentials["access_token"]},
        )
        assert MagentoClient(bearer).get(f"orders/{order['entity_id']}")["entity_id"] == order["entity_id"]
        forged = StoreContext(
            id=store.id,
            connector="magento",
            settings=store.settings,
            credentials={**store.credentials, "access_token_secret": "wrong"},
        )
        with pytest.raises(MagentoError) as refused:
            MagentoClient(forged).get(f"orders/{order['entity_id']}")
        assert refused.value.status == 401
    finally:
        sim.stop()


def test_transient_failures_are_retryable(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 1000}], last_trans_id="pi_4")
    rma = sim.create_rma(order["entity_id"])
    notice = rma_notice(store, rma)
    sim.faults.add("error", status=503, path="/returns/")
    with pytest.raises(PlatformUnavailable):
        connector.fetch(store, notice)
    sim.faults.add("reset", path="/orders/")
    with pytest.raises(PlatformUnavailable):
        connector.fetch(store, notice)
    assert isinstance(connector.fetch(store, notice), RefundRequested)


def test_commerce_webhook_push_is_fetched(sim: Any, receiver: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 1800}], method="paypal_express", last_trans_id="2GG279541U471931P")
    rma = sim.create_rma(order["entity_id"], status="authorized")
    receiver.wait(f"rma:{rma['entity_id']}")  # the I/O Event
    with receiver.lock:
        receiver.notices.clear()
    sent = sim.send_commerce_webhook("observer.rma_save_after", {"rma": rma})
    (notice,) = receiver.wait(f"rma:{rma['entity_id']}")
    assert sent.headers["x-adobe-commerce-webhook-signature"] and notice.kind == "requested"
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRequested) and event.request.primary_payment.platform_label == "paypal_express"
