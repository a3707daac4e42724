"""fetch against the simulator over real HTTP: normalization, trust, token refresh, failures."""

from __future__ import annotations

import pytest

from connectors.shopify import ShopifyConnector
from connectors.shopify.sim import ShopifySimulator
from connectors.shopify.sim.state import SimShop
from hub.errors import PlatformUnavailable
from hub.models import Ignored, ProductKind, ReasonCode, RefundRecorded, RefundRequested
from hub.testing.stores import MemoryStores

from .conftest import notice_of


def _requested(
    connector: ShopifyConnector, stores: MemoryStores, sim: ShopifySimulator, shop: SimShop
) -> RefundRequested:
    webhook = sim.webhooks_for("returns/request", shop)[-1]
    notice = notice_of(connector, webhook)
    store = stores.get(notice.store_id)
    assert store is not None
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRequested), event
    return event


def test_return_request_is_normalized(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(
        shop,
        [
            {"title": "Tee", "price": 2500, "quantity": 2, "tax": 400, "sku": "TEE-M"},
            {"title": "Manual (PDF)", "price": 900, "kind": "digital"},
            {"title": "Gift card", "price": 5000, "kind": "gift_card"},
            {"title": "Coffee club", "price": 1500, "kind": "subscription"},
        ],
        shipping=500,
        email="ana@example.com",
        delivered=True,
    )
    sim.request_return(order, {line.id: 1 for line in order.lines}, reason="SIZE_TOO_SMALL", note="too tight")
    request = _requested(connector, stores, sim, shop).request
    assert (request.order_id, request.store_id, request.currency) == (str(order.id), shop.domain, "USD")
    assert request.source_ref.startswith("gid://shopify/Return/")
    kinds = [line.kind for line in request.lines]
    assert kinds == [ProductKind.PHYSICAL, ProductKind.DIGITAL, ProductKind.GIFT_CARD, ProductKind.SUBSCRIPTION]
    tee = request.lines[0]
    assert (tee.quantity, tee.unit_price, tee.tax, tee.sku) == (1, 2500, 200, "TEE-M")
    assert request.amount == 2700 + 900 + 5000 + 1500
    assert (request.reason, request.reason_text) == (
        ReasonCode.SIZE_OR_FIT,
        "too tight; too tight; too tight; too tight",
    )
    assert request.customer.email == "ana@example.com" and request.customer.id == str(order.customer_id)
    facts = request.order
    assert (facts.total, facts.captured, facts.refunded) == (order.total, order.total, 0)
    assert facts.paid_at and facts.fulfilled_at and facts.delivered_at and facts.created_at < facts.fulfilled_at
    (payment,) = request.payments
    assert payment.platform_label == "shopify_payments"
    assert payment.reference == f"gid://shopify/OrderTransaction/{order.transactions[0].id}"
    assert payment.extra["order_id"] == order.gid and payment.captured == order.total


@pytest.mark.parametrize(
    "gateway,reference",
    [
        ("stripe", "pi_3PzStripeIntent"),
        ("stripe", "ch_3PzStripeCharge"),
        ("paypal", "2GG279541U471931P"),
        ("square", "R2B3Z8WMVt3EAmzYWLZvz7Y69EbZY"),
    ],
)
def test_outside_gateway_reference(
    sim: ShopifySimulator,
    shop: SimShop,
    connector: ShopifyConnector,
    stores: MemoryStores,
    gateway: str,
    reference: str,
) -> None:
    order = sim.add_order(shop, [("Lamp", 4000)], gateway=gateway, reference=reference)
    sim.request_return(order, reason="DEFECTIVE")
    (payment,) = _requested(connector, stores, sim, shop).request.payments
    assert (payment.platform_label, payment.reference, payment.captured) == (gateway, reference, 4000)
    assert ShopifyConnector.default_routes[gateway] == f"gateway:{gateway}"


def test_presentment_currency_is_recorded_amounts_stay_in_shop_money(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(shop, [("Scarf", 10000)], presentment_currency="EUR", rate="0.92")
    sim.request_return(order, reason="UNWANTED")
    request = _requested(connector, stores, sim, shop).request
    assert (request.currency, request.amount, request.order.presentment_currency) == ("USD", 10000, "EUR")
    assert request.payments[0].extra["presentment_amount"] == "9200"


def test_swapped_shop_header_reads_nothing(
    sim: ShopifySimulator, shop: SimShop, other_shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    """A signed returns/request of demo replayed with other's domain: other's token finds no such return."""
    order = sim.add_order(shop, [("Lamp", 4000)])
    sim.request_return(order)
    swapped = sim.webhooks_for("returns/request", shop)[-1].as_inbound(**{"X-Shopify-Shop-Domain": other_shop.domain})
    notice = notice_of(connector, swapped)
    assert notice.store_id == other_shop.domain
    event = connector.fetch(stores.get(other_shop.domain), notice)  # type: ignore[arg-type]
    assert isinstance(event, Ignored) and "no return" in event.reason
    assert sim.mutations("refundCreate", other_shop) == []


def test_swapped_shop_with_a_colliding_return_on_another_order(
    sim: ShopifySimulator, shop: SimShop, other_shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    """Even if the other shop had a return with that id, it would hang off a different order."""
    order = sim.add_order(shop, [("Lamp", 4000)])
    ret = sim.request_return(order)
    their_order = sim.add_order(other_shop, [("Chair", 9000)])
    other_shop.returns[ret.id] = type(ret)(id=ret.id, order_id=their_order.id, name="X", lines=[])
    notice = notice_of(
        connector,
        sim.webhooks_for("returns/request", shop)[-1].as_inbound(**{"X-Shopify-Shop-Domain": other_shop.domain}),
    )
    event = connector.fetch(stores.get(other_shop.domain), notice)  # type: ignore[arg-type]
    assert isinstance(event, Ignored) and "belongs to order" in event.reason


def test_declined_or_already_refunded_returns_are_ignored(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(shop, [("Lamp", 4000)])
    ret = sim.request_return(order)
    notice = notice_of(connector, sim.webhooks_for("returns/request", shop)[-1])
    sim.decline_return(ret, "final_sale", "Final sale item")
    event = connector.fetch(stores.get(shop.domain), notice)  # type: ignore[arg-type]
    assert isinstance(event, Ignored) and "DECLINED" in event.reason and event.topic == "returns/request"


def test_merchant_refund_is_recorded_as_money_moved(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(shop, [("Lamp", 4000), ("Bulb", 500)])
    sim.merchant_refund(order, 1500, lines={order.lines[0].id: 1}, note="Dented")
    notice = notice_of(connector, sim.webhooks_for("refunds/create", shop)[-1])
    event = connector.fetch(stores.get(shop.domain), notice)  # type: ignore[arg-type]
    assert isinstance(event, RefundRecorded) and event.money_moved
    request = event.request
    assert (request.amount, request.hub_refund_id, request.reason_text) == (1500, None, "Dented")
    assert event.gateway_refund_id == request.source_ref and request.source_ref.startswith("gid://shopify/Refund/")
    assert [line.line_id for line in request.lines] == [str(order.lines[0].id)]


def test_expired_token_is_refreshed_before_the_call_and_saved(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(shop, [("Lamp", 4000)])
    sim.request_return(order)
    old = stores.get(shop.domain)
    assert old is not None
    stores.add(
        shop.domain,
        settings=old.settings,
        routes=old.routes,
        credentials={**old.credentials, "expires": "2000-01-01T00:00:00Z"},
    )
    sim.expire_tokens(shop)
    _requested(connector, stores, sim, shop)
    fresh = stores.get(shop.domain)
    assert fresh is not None and shop.refreshes == 1
    assert fresh.credentials["access_token"] != old.credentials["access_token"]
    assert fresh.credentials["refresh_token"] != old.credentials["refresh_token"]
    assert fresh.credentials["expires"] > "2026"


def test_token_revoked_early_gets_one_forced_refresh(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(shop, [("Lamp", 4000)])
    sim.request_return(order)
    sim.expire_tokens(shop)  # stored expiry still says valid: the API answers 401 first
    _requested(connector, stores, sim, shop)
    assert shop.refreshes == 1


def test_unavailable_shopify_is_a_retry(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(shop, [("Lamp", 4000)])
    sim.request_return(order)
    notice = notice_of(connector, sim.webhooks_for("returns/request", shop)[-1])
    sim.faults.add("error", status=503, path=shop.domain)
    with pytest.raises(PlatformUnavailable):
        connector.fetch(stores.get(shop.domain), notice)  # type: ignore[arg-type]
    assert isinstance(connector.fetch(stores.get(shop.domain), notice), RefundRequested)  # type: ignore[arg-type]


def test_approved_return_is_a_request_too(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    """A return the merchant opened (or approved) arrives as returns/approve and is read the same way."""
    order = sim.add_order(shop, [("Lamp", 4000), ("Bulb", 500)])
    ret = sim.request_return(order, [order.lines[1]], reason="WRONG_ITEM")
    sim.approve_return(ret)
    notice = notice_of(connector, sim.webhooks_for("returns/approve", shop)[-1])
    assert notice.kind == "requested"
    event = connector.fetch(stores.get(shop.domain), notice)  # type: ignore[arg-type]
    assert isinstance(event, RefundRequested)
    assert (event.request.amount, event.request.reason) == (500, ReasonCode.WRONG_ITEM)


def test_tax_inclusive_shop_refunds_what_was_paid(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(shop, [{"title": "Mug", "price": 1200, "quantity": 2, "tax": 400}], taxes_included=True)
    sim.request_return(order, {order.lines[0].id: 1})
    request = _requested(connector, stores, sim, shop).request
    (mug,) = request.lines
    assert (request.amount, mug.tax, mug.unit_price) == (1200, 200, 1000)
    assert request.order.total == 2400
