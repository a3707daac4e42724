"""Each platform's ``list_refunds`` against its simulator: every refund record since the time
asked, across pages, once, named as its webhooks name it; the hub's own write-back read back with
its hub id and gateway refund id; a 429 waited out."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.magento import MagentoConnector
from connectors.magento.bodies import hub_comment
from connectors.magento.sim import MagentoSimulator
from connectors.shopify import ShopifyConnector
from connectors.shopify.sim import ShopifySimulator
from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.sim import WooCommerceSimulator
from hub.contracts import StoreContext
from hub.reconcile.sources import listed, platform_listing
from hub.testing.stores import MemoryStores


@pytest.fixture
def woo() -> Iterator[tuple[WooCommerceSimulator, WooCommerceConnector, StoreContext]]:
    sim = WooCommerceSimulator().start()
    config = sim.store_config()
    stores = MemoryStores("woocommerce")
    stores.add(sim.store_id, settings=config["settings"], credentials=config["credentials"])
    store = stores.get(sim.store_id)
    assert store is not None
    yield sim, WooCommerceConnector(sim.hub_settings(), stores), store
    threading.Thread(target=sim.stop, daemon=True).start()


def _since() -> datetime:
    return datetime.now(UTC) - timedelta(days=1)


def test_woocommerce_lists_every_refund_record_across_pages(woo: Any) -> None:
    sim, connector, store = woo
    made = {}
    for n in range(105):  # more than a page of orders (100)
        order = sim.add_order(transaction_id=f"pi_{n}")
        made[str(sim.add_manual_refund(order["id"], "3.00")["id"])] = order["id"]
    order = sim.add_order(transaction_id="pi_hub")
    ours = sim.shop.create_refund(
        order["id"],
        {
            "amount": "4.50",
            "meta_data": [
                {"key": "_refund_hub_id", "value": "rf_hub"},
                {"key": "_refund_hub_gateway_refund_id", "value": "re_9"},
            ],
        },
    )
    sim.add_order(transaction_id="pi_none")  # an order without refunds lists nothing

    found = listed(platform_listing(connector, store, _since()), sleep=lambda s: None)
    assert found is not None
    by_id = {r.id: r for r in found}
    assert set(by_id) == {*made, str(ours["id"])}
    assert all(by_id[i].order_id == str(o) and by_id[i].amount == 300 for i, o in made.items())
    assert by_id[str(ours["id"])].source_ref == f"refund:{ours['id']}"
    assert (by_id[str(ours["id"])].hub_refund_id, by_id[str(ours["id"])].gateway_refund_id) == ("rf_hub", "re_9")
    assert by_id[str(ours["id"])].payment_reference == "pi_hub"


def test_woocommerce_records_before_the_time_are_left_out_and_a_429_waited_out(woo: Any) -> None:
    sim, connector, store = woo
    order = sim.add_order(transaction_id="pi_1")
    refund = sim.add_manual_refund(order["id"], "2.00")
    sim.faults.add("error", status=429, times=1, method="GET", path=r"/orders$")
    waits: list[float] = []
    found = listed(platform_listing(connector, store, _since()), sleep=waits.append)
    assert [r.id for r in found or ()] == [str(refund["id"])]
    assert len(waits) == 1
    later = listed(platform_listing(connector, store, datetime.now(UTC) + timedelta(minutes=5)), sleep=waits.append)
    assert later == []


@pytest.fixture
def magento() -> Iterator[tuple[MagentoSimulator, MagentoConnector, StoreContext]]:
    sim = MagentoSimulator(edition="open_source")
    sim.start()
    stores = MemoryStores("magento")
    seeded = sim.store()
    store = stores.add(seeded["id"], settings=seeded["settings"], credentials=seeded["credentials"])
    yield sim, MagentoConnector(sim.hub_settings(), stores), store
    sim.stop()


def test_magento_lists_credit_memos_across_pages_with_their_hub_tags(magento: Any) -> None:
    sim, connector, store = magento
    made = {}
    for n in range(102):  # more than a page (100)
        order = sim.add_order([{"sku": "TEE", "price": 1000 + n}], method="checkmo")
        made[str(sim.merchant_refund(order["entity_id"]))] = 1000 + n
    order = sim.add_order([{"sku": "CAP", "price": 2500}], method="stripe_payments", last_trans_id="pi_m1")
    online = str(sim.merchant_refund(order["entity_id"], online=True, comment=hub_comment("rf_magento1", "paid")))
    sim.fail_page("creditmemos", 2, status=429)  # the second page is refused once

    waits: list[float] = []
    found = listed(platform_listing(connector, store, _since()), sleep=waits.append)
    assert found is not None
    by_id = {r.id: r for r in found}
    assert set(by_id) == {*made, online}
    assert len(found) == len(by_id)
    assert {i: by_id[i].amount for i in made} == made
    memo = sim.state.get(sim.state.creditmemos, int(online))
    assert by_id[online].source_ref == f"creditmemo:{memo['increment_id']}"
    assert by_id[online].gateway_refund_id == memo["transaction_id"]
    assert by_id[online].hints["id"] == memo["entity_id"]
    assert by_id[online].hub_refund_id == "rf_magento1"
    assert waits == [5.0]


@pytest.fixture
def shopify() -> Iterator[tuple[ShopifySimulator, ShopifyConnector, StoreContext, Any]]:
    sim = ShopifySimulator()
    sim.start()
    shop = sim.add_shop(f"list-{uuid.uuid4().hex[:8]}.myshopify.com")
    stores = MemoryStores("shopify")
    store = stores.add(**sim.store(shop))
    yield sim, ShopifyConnector(sim.hub_settings(), stores), store, shop
    sim.stop()


def test_shopify_lists_refunds_by_the_orders_they_updated_across_pages(shopify: Any) -> None:
    sim, connector, store, shop = shopify
    made = {}
    for n in range(55):  # more than a page of orders (50)
        order = sim.add_order(shop, [("Tee", 2000)])
        made[sim.merchant_refund(order, 500 + n).gid] = 500 + n
    order = sim.add_order(shop, [("Cap", 3000)])
    ours = sim.merchant_refund(order, 1000, note="Paid at Stripe [refund-hub:rf_shop1]")
    sim.add_order(shop, [("Mug", 900)])  # no refund: nothing listed

    found = listed(platform_listing(connector, store, _since()), sleep=lambda s: None)
    assert found is not None
    by_id = {r.id: r for r in found}
    assert {i: r.amount for i, r in by_id.items() if i in made} == made
    assert set(by_id) == {*made, ours.gid}
    assert (by_id[ours.gid].source_ref, by_id[ours.gid].hub_refund_id) == (ours.gid, "rf_shop1")
    assert by_id[ours.gid].order_id == order.gid
