"""The facts the policy needs, read from the Shopify simulator over real HTTP: the customer's
lifetime order count and spend, product tags and the final-sale metafield the merchant names, a
shop that never granted the scopes (facts unknown, the refund still read), and ordersCount."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.shopify import ShopifyConnector
from connectors.shopify.sim import ShopifySimulator
from connectors.shopify.sim.state import SimShop
from hub.contracts import StoreContext
from hub.models import RefundRequest, RefundRequested
from hub.testing.stores import MemoryStores

from .conftest import notice_of


def _returned(
    connector: ShopifyConnector, store: StoreContext, sim: ShopifySimulator, shop: SimShop, order_id: int
) -> RefundRequest:
    sim.request_return(shop.orders[order_id], reason="DEFECTIVE")
    event = connector.fetch(store, notice_of(connector, sim.webhooks_for("returns/request", shop)[-1]))
    assert isinstance(event, RefundRequested), event
    return event.request


def _store(stores: MemoryStores, shop: SimShop, **settings: str) -> StoreContext:
    store = stores.get(shop.domain)
    assert store is not None
    return stores.save(store.id, settings={**store.settings, **settings}, credentials=store.credentials)


def test_the_customers_order_count_and_spend_come_with_the_request(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    earlier = [sim.add_order(shop, [("Tee", 2500)], customer_id=4242, age_days=40 - i) for i in range(3)]
    sim.add_order(shop, [("Mug", 900)], customer_id=777)  # somebody else's order counts for nobody here
    order = sim.add_order(shop, [("Coat", 12000)], customer_id=4242)
    request = _returned(connector, _store(stores, shop), sim, shop, order.id)
    assert request.customer.id == "4242"
    assert request.customer.order_count == 4
    assert request.customer.order_total == sum(o.total for o in earlier) + order.total


def test_product_tags_and_the_named_final_sale_metafield(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(
        shop,
        [
            {"title": "Outlet coat", "price": 9000, "tags": ["collection:outlet", "Winter"]},
            {"title": "Last-chance scarf", "price": 2000, "metafields": {"custom.final_sale": True}},
            {"title": "Tee", "price": 2500, "metafields": {"custom.final_sale": False}},
        ],
    )
    store = _store(stores, shop, final_sale_metafield="custom.final_sale")
    coat, scarf, tee = _returned(connector, store, sim, shop, order.id).lines
    assert coat.tags == ("collection:outlet", "Winter") and not coat.final_sale
    assert scarf.final_sale and scarf.tags == ()
    assert not tee.final_sale


def test_without_a_named_metafield_nothing_is_final_sale(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(shop, [{"title": "Scarf", "price": 2000, "metafields": {"custom.final_sale": True}}])
    (scarf,) = _returned(connector, _store(stores, shop), sim, shop, order.id).lines
    assert not scarf.final_sale
    bad = _store(stores, shop, final_sale_metafield="final sale")  # not namespace.key: left out, not sent
    other = sim.add_order(shop, [{"title": "Scarf", "price": 2000, "metafields": {"custom.final_sale": True}}])
    assert not _returned(connector, bad, sim, shop, other.id).lines[0].final_sale


def test_a_shop_without_the_scopes_still_refunds_with_the_facts_unknown(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    shop.scopes = frozenset({"read_orders", "write_orders", "read_returns", "write_returns"})  # an older install
    order = sim.add_order(
        shop, [{"title": "Coat", "price": 9000, "tags": ["collection:outlet"]}], customer_id=99, age_days=1
    )
    request = _returned(connector, _store(stores, shop, final_sale_metafield="custom.final_sale"), sim, shop, order.id)
    assert (request.customer.order_count, request.customer.order_total) == (None, None)
    assert request.customer.id == "99" and request.lines[0].tags == ()
    assert request.amount == 9000


def test_orders_count_in_a_range_is_exact_or_none(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    for age in (0.5, 1.5, 3, 10, 40):
        sim.add_order(shop, [("Tee", 2500)], age_days=age)
    store = _store(stores, shop)
    now = datetime.now(UTC)
    assert connector.order_count(store, now - timedelta(days=7), now) == 3
    assert connector.order_count(store, now - timedelta(days=60), now - timedelta(days=7)) == 2
    assert connector.order_count(store, now - timedelta(days=1), now + timedelta(days=1)) == 1
    assert connector.order_count(store, now + timedelta(days=1), now + timedelta(days=2)) == 0


def test_the_simulated_count_stops_at_its_limit_as_shopify_does(sim: ShopifySimulator, shop: SimShop) -> None:
    from connectors.shopify.sim.graphql import execute

    for _ in range(3):
        sim.add_order(shop, [("Tee", 2500)])
    document = 'query { ordersCount(query: "created_at:>=\'2000-01-01T00:00:00Z\'", limit: 2) { count precision } }'
    assert execute(sim, shop, document, {})["data"]["ordersCount"] == {"count": 2, "precision": "AT_LEAST"}
