"""The customer request page offers only what is still refundable of each line: units the
merchant already refunded on the platform (Shopify ``LineItem.refundableQuantity``, WooCommerce
refunds' line items, Magento ``qty_refunded``) are neither listed nor accepted."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hub.models import RefundRequest
from tests.connectors.shopify.conftest import shared_sim, sim  # noqa: F401 - fixtures
from tests.connectors.shopify.test_shopify_through_hub import World, make_world, stripe_sim  # noqa: F401
from tests.customer.conftest import stack  # noqa: F401 - fixture
from tests.customer.shops import APPROVE, CustomerShop, open_magento, open_woo, woo_order
from tests.customer.test_customer_pages import csrf


def read_order(hub: Any, connector: str, store_id: str, number: str) -> RefundRequest:
    store = hub.stores[connector].get(store_id)
    found = hub.connectors[connector].customer_order(store, number)
    assert found is not None
    return found


def units(order: RefundRequest) -> dict[str, int]:
    return {line.title: line.quantity for line in order.lines}


def test_shopify_lists_only_the_units_not_yet_refunded(make_world: Callable[..., World]) -> None:  # noqa: F811
    w = make_world()
    [shop] = w.shops
    order = w.sim.add_order(
        shop,
        [{"title": "Lamp", "price": 3000, "quantity": 1}, {"title": "Bulb", "price": 1000, "quantity": 3}],
    )
    lamp, bulb = (line.id for line in order.lines)
    assert units(read_order(w.hub.hub, "shopify", shop.domain, order.name)) == {"Lamp": 1, "Bulb": 3}

    w.sim.merchant_refund(order, 5000, lines={lamp: 1, bulb: 2})  # in the Shopify admin
    left = read_order(w.hub.hub, "shopify", shop.domain, order.name)
    assert units(left) == {"Bulb": 1}
    assert left.amount == 1000

    client = w.hub.app.test_client()
    page = f"/customer/shopify/request?store={quote(shop.domain, safe='')}"
    token = csrf(client.get(page).text)
    found = client.post(page, data={"number": order.name, "email": "customer@example.com", "csrf_token": token})
    order_page = client.get(found.headers["Location"]).text
    assert "How many of Lamp" not in order_page
    options = re.search(r'aria-label="How many of Bulb">(.*?)</select>', order_page, re.S)
    assert options
    assert re.findall(r'<option value="(\d+)"', options.group(1)) == ["0", "1"]
    form = {"csrf_token": csrf(order_page), f"qty-{bulb}": "2", "reason": "damaged"}
    refused = client.post(f"{found.headers['Location']}/preview", data=form)
    assert refused.status_code == 422
    assert "at most 1 of Bulb" in refused.text


def test_woocommerce_lists_only_the_units_not_yet_refunded(stack: ExitStack, tmp_path: Path) -> None:  # noqa: F811
    shop: CustomerShop = open_woo(stack, tmp_path, APPROVE)
    order = woo_order(shop)  # one Mug at 12.00, two Tees at 9.00
    mug, tee = (item["id"] for item in order["line_items"])
    shop.platform.shop.create_refund(
        order["id"],
        {
            "amount": "21.00",
            "api_refund": False,
            "line_items": [
                {"id": mug, "quantity": 1, "refund_total": "12.00"},
                {"id": tee, "quantity": 1, "refund_total": "9.00"},
            ],
        },
    )
    left = read_order(shop.hub.hub, "woocommerce", shop.store_id, str(order["id"]))
    assert units(left) == {"Tee": 1}


def test_magento_lists_only_the_units_not_yet_refunded(stack: ExitStack, tmp_path: Path) -> None:  # noqa: F811
    shop = open_magento(stack, tmp_path, APPROVE)
    intent = shop.stripe.create_payment(7500, "USD")
    order = shop.platform.add_order(
        [{"sku": "TEE", "price": 2500, "qty": 2}, {"sku": "CAP", "price": 2500, "qty": 1}],
        last_trans_id=intent,
        email="jo@example.com",
    )
    tee, cap = (item["item_id"] for item in order["items"])
    shop.platform.state.refund_order(
        order["entity_id"], {"items": [{"order_item_id": tee, "qty": 1}, {"order_item_id": cap, "qty": 1}]}
    )
    left = read_order(shop.hub.hub, "magento", shop.store_id, order["increment_id"])
    assert {line.sku: line.quantity for line in left.lines} == {"TEE": 1}
