"""The Magento simulator ``refund-hub sandbox`` starts, built from the hub's configuration.

Registered as the ``magento`` entry point of ``refund_hub.simulators``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from connectors.magento.sim.server import MagentoSimulator
from hub.errors import ConfigError

if TYPE_CHECKING:
    from hub.runtime.config import Config


def from_config(config: Config, port: int, hub_url: str) -> MagentoSimulator:
    """The simulator ``refund-hub sandbox`` starts for the configuration's Magento store.

    It takes the store's OAuth credentials, I/O Events provider and client ids and its id, so the
    hub reaches it and recognises its pushes. Its signing keys are made at start, so a Commerce
    store's hub must fetch them from the simulator: ``[connectors.magento]`` needs ``test_mode``
    and ``io_events_key_host = "http://127.0.0.1:<port>"`` (and ``io_events_fetch_keys`` not
    false). An activation against it also needs ``allow_private_networks`` (it is on 127.0.0.1).
    """
    found = next(((sid, s) for sid, s in config.stores.items() if s.connector == "magento"), None)
    if found is None:
        raise ConfigError("sandbox.ports.magento", "no store in [stores] uses the magento connector")
    store_id, store = found
    edition = str(store.settings.get("edition") or "commerce")
    settings = config.connectors.get("magento", {})
    key_host = str(settings.get("io_events_key_host") or "").rstrip("/")
    fetching = settings.get("test_mode") and settings.get("io_events_fetch_keys", True)
    if edition == "commerce" and not (fetching and urlsplit(key_host).port == port):
        raise ConfigError(
            "connectors.magento",
            f"set test_mode and io_events_key_host = 'http://127.0.0.1:{port}' (io_events_fetch_keys not false) "
            "so the hub can check the Magento simulator's I/O Events signatures",
        )
    return MagentoSimulator(
        port=port,
        webhook_url=f"{hub_url}/webhooks/magento",
        edition=edition,
        store_code=store.settings.get("store_code"),
        credentials=store.credentials or None,
        provider_id=store.settings.get("io_events_provider_id"),
        client_id=store.settings.get("io_events_client_id"),
        store_id=store_id,
        first_id=int(time.time()),  # a hub kept from an earlier run never meets the same entity id again
    )
