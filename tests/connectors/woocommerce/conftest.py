"""Fixtures for the WooCommerce connector tests: the simulator, a store directory, the connector,
and a stand-in for the hub's web side that verifies what the simulator delivers."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from werkzeug.serving import make_server

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.sim import WooCommerceSimulator
from connectors.woocommerce.verify import signature
from hub.contracts import Delivery, Headers, Inbound, Notice, PollResult, StoreContext, Verified
from hub.errors import IngestError
from hub.testing import inbound
from hub.testing.stores import MemoryStores

FIXTURES = Path(__file__).parents[2] / "fixtures" / "woocommerce"
SHOP = "https://example.com"  # the docs fixtures' site
SECRET = "s3cretAlnum0123456789"


def wait_until(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def wait() -> Callable[..., Any]:
    return wait_until


@pytest.fixture
def fixture_json() -> Callable[[str], Any]:
    def load(name: str) -> Any:
        return json.loads((FIXTURES / name).read_text())

    return load


@pytest.fixture
def signed() -> Callable[..., Inbound]:
    """A delivery as WooCommerce sends it: ``body`` signed with ``secret`` (defaults: the docs site)."""

    def make(
        body: Any,
        topic: str = "order.updated",
        *,
        secret: str = SECRET,
        source: str = f"{SHOP}/",
        delivery_id: str | None = None,
        query: dict[str, str] | None = None,
    ) -> Inbound:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        resource, _, event = topic.partition(".")
        headers = {
            "X-WC-Webhook-Source": source,
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature(raw, secret),
            "X-WC-Webhook-ID": "3",
            "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
        }
        return inbound(raw, headers, query=query)

    return make


@pytest.fixture
def docs_stores() -> MemoryStores:
    """The docs' example.com store, with a current and a previous webhook secret."""
    stores = MemoryStores("woocommerce")
    stores.add(
        SHOP,
        settings={"url": SHOP},
        credentials={
            "consumer_key": "ck_x",
            "consumer_secret": "cs_x",
            "webhook_secret": SECRET,
            "previous_webhook_secret": "oldSecret42",
        },
    )
    return stores


@pytest.fixture
def docs_connector(docs_stores: MemoryStores) -> WooCommerceConnector:
    return WooCommerceConnector({"app_url": "https://hub.example"}, docs_stores)


def as_delivery(connector: WooCommerceConnector, item: Inbound, verified: Verified) -> Delivery:
    return Delivery(
        id=uuid.uuid4().hex,
        connector=connector.name,
        store_id=verified.store_id,
        topic=verified.topic,
        headers=item.headers,
        body=item.body,
    )


@pytest.fixture
def notices_of(docs_connector: WooCommerceConnector) -> Callable[[Inbound], list[Notice]]:
    def parse(item: Inbound) -> list[Notice]:
        return docs_connector.parse(as_delivery(docs_connector, item, docs_connector.verify(item)))

    return parse


class HubSide:
    """The hub's web layer, just enough: ``POST /webhooks/woocommerce`` verifies like
    ``hub.web.webhooks`` and keeps every delivery; the connector's install blueprint is mounted."""

    def __init__(self) -> None:
        self.app = Flask("woocommerce-hub-side")
        self.connector: WooCommerceConnector | None = None
        self.received: list[tuple[Inbound, Verified | None, int]] = []
        self.answer: int | None = None  # force this status (a hub that is down)
        self._lock = threading.Lock()

        @self.app.post("/webhooks/woocommerce")
        def _webhook() -> tuple[str, int]:
            item = Inbound(
                headers=Headers(dict(request.headers)),
                body=request.get_data(),
                content_type=request.mimetype or "",
                query=request.args.to_dict(),
                url=request.url,
            )
            assert self.connector is not None
            verified, status = None, 200
            try:
                if item.content_type not in self.connector.content_types:
                    status = 415
                else:
                    verified = self.connector.verify(item)
            except IngestError as exc:
                status = exc.status
            status = self.answer or status
            with self._lock:
                self.received.append((item, verified, status))
            return "", status

        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def mount(self, connector: WooCommerceConnector) -> None:
        self.connector = connector
        blueprint = connector.blueprint()
        assert blueprint is not None
        self.app.register_blueprint(blueprint)

    def verified(self, topic: str | None = None) -> list[tuple[Inbound, Verified]]:
        with self._lock:
            return [(i, v) for i, v, _ in self.received if v is not None and (topic is None or v.topic == topic)]

    def notices(self, topic: str | None = None) -> list[Notice]:
        assert self.connector is not None
        found: list[Notice] = []
        for item, verified in self.verified(topic):
            if not verified.ack_only:
                found.extend(self.connector.parse(as_delivery(self.connector, item, verified)))
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub_side() -> Iterator[HubSide]:
    side = HubSide()
    yield side
    side.close()


@pytest.fixture
def sim(hub_side: HubSide) -> Iterator[WooCommerceSimulator]:
    simulator = WooCommerceSimulator(webhook_url=f"{hub_side.url}/webhooks/woocommerce").start()
    yield simulator
    # werkzeug's serve_forever polls for shutdown every 0.5 s: stop in the background, not per test
    threading.Thread(target=simulator.stop, daemon=True).start()


@pytest.fixture
def stores(sim: WooCommerceSimulator) -> MemoryStores:
    config = sim.store_config()
    directory = MemoryStores("woocommerce")
    directory.add(sim.store_id, settings=config["settings"], credentials=config["credentials"])
    return directory


@pytest.fixture
def connector(sim: WooCommerceSimulator, stores: MemoryStores, hub_side: HubSide) -> WooCommerceConnector:
    made = WooCommerceConnector(sim.hub_settings(), stores)
    hub_side.mount(made)
    return made


@pytest.fixture
def store(stores: MemoryStores, sim: WooCommerceSimulator) -> StoreContext:
    found = stores.get(sim.store_id)
    assert found is not None
    return found


Wait = Callable[..., Any]


def _writes(sim: WooCommerceSimulator, suffix: str) -> list[dict[str, Any]]:
    return [w for w in sim.writes if w["method"] == "POST" and w["path"].endswith(suffix)]


def every_page(pages: Iterable[PollResult]) -> PollResult:
    """A page-by-page poll read to its end, as one result: every notice, the last page's cursor."""
    notices: list[Notice] = []
    cursor: str | None = None
    for page in pages:
        notices.extend(page.notices)
        cursor = page.cursor
    return PollResult(notices=notices, cursor=cursor)
