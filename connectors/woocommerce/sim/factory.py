"""The WooCommerce simulator ``refund-hub sandbox`` starts, built from the hub's configuration.

Registered as the ``woocommerce`` entry point of ``refund_hub.simulators``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from connectors.woocommerce.sim.server import WooCommerceSimulator
from connectors.woocommerce.subscriptions import WEBHOOK_PATH
from connectors.woocommerce.transformers import normalize_status
from connectors.woocommerce.verify import store_id_for

if TYPE_CHECKING:
    from hub.runtime.config import Config


def from_config(config: Config, port: int, hub_url: str) -> WooCommerceSimulator:
    """The simulator ``refund-hub sandbox`` starts on ``port``: it serves the configured store whose
    id is ``http://127.0.0.1:<port>`` (the id the connector derives from the simulator's URL),
    with that store's REST keys and webhook secret, and delivers to the hub's webhook URL."""
    from hub.errors import ConfigError

    store_id = store_id_for(f"http://127.0.0.1:{port}")
    store = config.stores.get(store_id)
    needed = ("consumer_key", "consumer_secret", "webhook_secret")
    if store is None or store.connector != "woocommerce" or not all(store.credentials.get(k) for k in needed):
        raise ConfigError(
            f"stores.{store_id}",
            f"the WooCommerce simulator on port {port} serves the store {store_id!r}; declare it with connector "
            '"woocommerce" and credentials consumer_key, consumer_secret and webhook_secret',
        )
    status = store.settings.get("refund_request_status") or config.connectors.get("woocommerce", {}).get(
        "refund_request_status", "refund-requested"
    )
    return WooCommerceSimulator(
        port=port,
        webhook_url=f"{hub_url}{WEBHOOK_PATH}",
        refund_request_status=normalize_status(str(status)),
        consumer_key=store.credentials["consumer_key"],
        consumer_secret=store.credentials["consumer_secret"],
        webhook_secret=store.credentials["webhook_secret"],
        first_id=int(time.time()),  # a hub kept from an earlier run never meets the same order id again
    )
