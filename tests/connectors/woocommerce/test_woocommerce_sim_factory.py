"""The ``refund-hub sandbox`` factory for the WooCommerce simulator: built from the configuration, it
serves the configured store (same id, keys and webhook secret), so a hub with that store takes its deliveries."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from connectors.woocommerce.sim import WooCommerceSimulator
from hub.errors import ConfigError
from hub.ledger import states
from hub.runtime.config import load_config
from hub.sandbox.registry import build_simulators
from hub.testing.harness import HubHarness


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tables(port: int, **credentials: str) -> dict[str, Any]:
    store = {
        "connector": "woocommerce",
        "settings": {"url": f"http://127.0.0.1:{port}", "refund_request_status": "wc-return-asked"},
        "credentials": {"consumer_key": "ck_sand", "consumer_secret": "cs_sand", "webhook_secret": "whSandbox42"}
        | credentials,
        "routes": {"bacs": "none"},
    }
    return {
        "hub": {"public_url": "http://127.0.0.1:8000/"},
        "connectors": {"woocommerce": {"test_mode": True}},
        "stores": {f"http://127.0.0.1:{port}": store},
        "sandbox": {"ports": {"woocommerce": port}},
    }


def test_the_factory_serves_the_configured_store_and_the_hub_takes_its_deliveries(tmp_path: Path) -> None:
    port = _free_port()
    tables = _tables(port)
    [sim] = build_simulators(load_config(data=tables, env={}))
    assert isinstance(sim, WooCommerceSimulator)
    assert (sim.webhook_url, sim.refund_request_status) == (
        "http://127.0.0.1:8000/webhooks/woocommerce",
        "return-asked",
    )
    sim.start()
    try:
        assert sim.store_id == f"http://127.0.0.1:{port}"
        with HubHarness(tmp_path, connectors=tables["connectors"], stores=tables["stores"]) as hub:
            sim.webhook_url = f"{hub.url}/webhooks/woocommerce"
            order = sim.add_order(payment_method="bacs")
            sim.request_refund(order["id"], "Changed my mind")
            hub.settle(senders=[sim.sender])
            [refund] = hub.refunds()  # verified with the store's secret, fetched with its keys
            assert (refund.source_ref, refund.route) == (f"request:{order['id']}", "none")
            assert refund.state == states.WRITTEN_BACK
    finally:
        sim.stop()


@pytest.mark.parametrize("problem", ["no store on the port", "no webhook secret"])
def test_the_factory_refuses_a_store_it_cannot_serve(problem: str) -> None:
    port = _free_port()
    tables = _tables(port, webhook_secret="") if problem == "no webhook secret" else _tables(port)
    if problem == "no store on the port":
        tables["sandbox"]["ports"]["woocommerce"] = port + 1
    with pytest.raises(ConfigError) as raised:
        build_simulators(load_config(data=tables, env={}))
    assert raised.value.key.startswith("stores.http://127.0.0.1:")
