"""The Shopify simulator ``refund-hub sandbox`` starts, built from the hub's configuration.

Registered as the ``shopify`` entry point of ``refund_hub.simulators``: it takes the app's key and
secret from ``[connectors.shopify]``, serves every configured Shopify store (a store with an
``access_token`` credential is installed with that fixed token) and sends webhooks to the hub's
``/webhooks/shopify``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.shopify.sim.server import ShopifySimulator

if TYPE_CHECKING:
    from hub.runtime.config import Config


def from_config(config: Config, port: int, hub_url: str) -> ShopifySimulator:
    settings = config.connectors["shopify"]
    simulator = ShopifySimulator(
        port=port,
        webhook_url=f"{hub_url}/webhooks/shopify",
        api_key=str(settings.get("api_key", "")),
        api_secret=str(settings["api_secret"]),
    )
    for store_id, store in config.stores.items():
        if store.connector == "shopify":
            token = store.credentials.get("access_token")
            simulator.add_shop(store_id, access_token=token, installed=bool(token))
    return simulator
