"""The integration activation end to end against the simulator, and the store URL checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from connectors.magento import MagentoConnector
from connectors.magento.client import MagentoClient
from connectors.magento.install import UnsafeURL, safe_base_url
from hub.sandbox.simserver import SimulatorServer
from hub.testing.stores import MemoryStores


class Hub:
    """The connector's blueprint mounted in a Flask app on a real port, like the hub's app factory does."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.stores = MemoryStores("magento")
        self.connector = MagentoConnector(settings, self.stores)
        app = Flask("hub")
        blueprint = self.connector.blueprint()
        assert blueprint is not None
        app.register_blueprint(blueprint)
        self.server = SimulatorServer(app).start()
        self.url = self.server.url


@pytest.fixture
def hub() -> Iterator[Hub]:
    running = Hub({"test_mode": True})
    yield running
    running.server.stop()


def test_activation_end_to_end(hub: Hub, open_sim: Any) -> None:
    hub.stores.add(open_sim.store_id, settings={"edition": "open_source", "refund_request_status": "refund_me"})
    result = open_sim.activate_integration(f"{hub.url}/install/magento/callback", f"{hub.url}/install/magento/identity")
    assert (result["callback_status"], result["identity_status"], result["active"]) == (200, 302, True)
    assert result["location"] == f"{open_sim.url}/admin/admin/integration/loginSuccessCallback"
    store = hub.stores.get(open_sim.store_id)
    assert store is not None
    assert store.settings["base_url"] == open_sim.url and store.settings["refund_request_status"] == "refund_me"
    assert set(store.credentials) == {"consumer_key", "consumer_secret", "access_token", "access_token_secret"}
    assert store.credentials["consumer_key"] == result["consumer_key"]
    order = open_sim.add_order([{"sku": "TEE", "price": 1000}], last_trans_id="pi_i1")
    assert MagentoClient(store).get(f"orders/{order['entity_id']}")["entity_id"] == order["entity_id"]


def test_identity_link_refusals(hub: Hub, open_sim: Any) -> None:
    unknown = requests.get(f"{hub.url}/install/magento/identity", params={"oauth_consumer_key": "nope"}, timeout=5)
    assert unknown.status_code == 404
    consumer = open_sim.oauth.new_consumer()
    posted = requests.post(
        f"{hub.url}/install/magento/callback",
        timeout=5,
        data={
            "oauth_consumer_key": consumer.key,
            "oauth_consumer_secret": consumer.secret,
            "store_base_url": open_sim.url,
            "oauth_verifier": consumer.verifier,
        },
    )
    assert posted.status_code == 200
    elsewhere = requests.get(
        f"{hub.url}/install/magento/identity",
        timeout=5,
        allow_redirects=False,
        params={"oauth_consumer_key": consumer.key, "success_call_back": "https://evil.example.com/steal"},
    )
    assert elsewhere.status_code == 400 and hub.stores.all() == []
    incomplete = requests.post(f"{hub.url}/install/magento/callback", data={"oauth_consumer_key": "x"}, timeout=5)
    assert incomplete.status_code == 400


def test_callback_refuses_unsafe_store_urls_outside_test_mode() -> None:
    strict = Hub({})
    try:
        posted = requests.post(
            f"{strict.url}/install/magento/callback",
            timeout=5,
            data={
                "oauth_consumer_key": "k",
                "oauth_consumer_secret": "s",
                "oauth_verifier": "v",
                "store_base_url": "http://127.0.0.1:8080/",
            },
        )
        assert posted.status_code == 400
    finally:
        strict.server.stop()


@pytest.mark.parametrize(
    "url",
    [
        "http://shop.example.com",
        "https://127.0.0.1",
        "https://10.1.2.3/",
        "https://169.254.169.254",
        "https://user:pw@93.184.216.34",
        "https://localhost:8443",
        "ftp://93.184.216.34",
    ],
)
def test_unsafe_base_urls(url: str) -> None:
    with pytest.raises(UnsafeURL):
        safe_base_url(url, test_mode=False)


def test_safe_base_urls() -> None:
    assert safe_base_url("https://93.184.216.34/magento/", test_mode=False) == "https://93.184.216.34/magento"
    assert safe_base_url("http://127.0.0.1:5000/", test_mode=True) == "http://127.0.0.1:5000"


def test_io_events_registration_challenge(hub: Hub) -> None:
    answer = requests.get(f"{hub.url}/webhooks/magento", params={"challenge": "abc123"}, timeout=5)
    assert answer.status_code == 200 and answer.json() == {"challenge": "abc123"}
