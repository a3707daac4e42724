"""Before anything destructive (disable the store on app/uninstalled, erase it on shop/redact) the
connector asks Shopify itself: a ``shop { id }`` query with the store's token. 401 (and a refresh
Shopify refuses) means the app is gone; an answer means it is still installed, so a replayed
uninstall or redact body does nothing."""

from __future__ import annotations

import uuid

import pytest

from connectors.shopify import ShopifyConnector
from connectors.shopify.sim import ShopifySimulator
from connectors.shopify.sim.rest import shop as shop_body
from connectors.shopify.sim.rest import shop_redact
from connectors.shopify.sim.state import SimShop
from hub.errors import PlatformUnavailable
from hub.testing.stores import MemoryStores

from .conftest import delivery_of, notice_of


def test_a_real_uninstall_is_confirmed_by_shopify(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector
) -> None:
    sim.uninstall(shop)
    notice = notice_of(connector, sim.webhooks_for("app/uninstalled", shop)[-1])
    assert (notice.kind, notice.store_id) == ("uninstalled", shop.domain)
    assert notice.hints["shop_id"] == str(shop.id)


def test_an_uninstall_body_while_the_app_is_installed_disables_nothing(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector
) -> None:
    """The shop's own signed app/uninstalled body from an earlier uninstall, replayed after a
    re-install (or any uninstall Shopify did not make): Shopify still answers the token."""
    sim.fire(shop, "app/uninstalled", shop_body(shop))  # signed, but the app stays installed
    notice = notice_of(connector, sim.webhooks_for("app/uninstalled", shop)[-1])
    assert notice.kind == "ignored"
    assert "still installed" in notice.hints["reason"]


def test_a_fixed_token_store_is_uninstalled_on_401(sim: ShopifySimulator, stores: MemoryStores) -> None:
    shop = sim.add_shop(f"fixed-{uuid.uuid4().hex[:8]}.myshopify.com", access_token=f"shpat_{uuid.uuid4().hex}")
    stores.add(**sim.store(shop))
    connector = ShopifyConnector(sim.hub_settings(), stores)
    sim.uninstall(shop)
    assert notice_of(connector, sim.webhooks_for("app/uninstalled", shop)[-1]).kind == "uninstalled"


def test_shopify_unreachable_means_try_again_not_disable(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector
) -> None:
    sim.uninstall(shop)
    webhook = sim.webhooks_for("app/uninstalled", shop)[-1]
    item = webhook.as_inbound()
    sim.faults.add("error", status=503, path=r".*/(graphql\.json|access_token)$", times=10)
    with pytest.raises(PlatformUnavailable):
        connector.parse(delivery_of(item, connector.verify(item)))


def test_shop_redact_waits_for_the_app_to_be_gone(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector
) -> None:
    sim.fire(shop, "shop/redact", shop_redact(shop))
    early = notice_of(connector, sim.webhooks_for("shop/redact", shop)[-1])
    assert early.kind == "ignored" and "still installed" in early.hints["reason"]
    sim.uninstall(shop)
    sim.redact_shop(shop)
    late = notice_of(connector, sim.webhooks_for("shop/redact", shop)[-1])
    assert late.kind == "redact" and late.hints["whole_store"] is True


def test_a_store_the_hub_does_not_hold_needs_no_question(offline_connector: ShopifyConnector) -> None:
    """Nothing to disable or keep: the notice goes through as it is (no API call is possible)."""
    from .conftest import fixture_body, signed

    notice = notice_of(offline_connector, signed(fixture_body("webhook_app_uninstalled.json"), "app/uninstalled"))
    assert notice.kind == "uninstalled"


def test_the_simulator_answers_the_shop_query(sim: ShopifySimulator, shop: SimShop) -> None:
    import requests

    token = sim.store(shop)["credentials"]["access_token"]
    url = f"{sim.url}/store/{shop.domain}/admin/api/2026-04/graphql.json"
    query = {"query": "query { shop { id } }"}
    answer = requests.post(url, json=query, headers={"X-Shopify-Access-Token": token}, timeout=5)
    assert answer.json()["data"]["shop"]["id"] == f"gid://shopify/Shop/{shop.id}"
    sim.uninstall(shop)
    refused = requests.post(url, json=query, headers={"X-Shopify-Access-Token": token}, timeout=5)
    assert refused.status_code == 401 and "Invalid API key or access token" in refused.json()["errors"]
