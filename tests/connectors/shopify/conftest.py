"""Fixtures for the Shopify connector tests: signed fixture bodies, the simulator, stores, a hub stub,
and the refund request and execution the refund and record tests start from."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request

from connectors.shopify import ShopifyConnector
from connectors.shopify.sim import ShopifySimulator
from connectors.shopify.sim.state import SimOrder, SimShop, SimWebhook
from hub.contracts import Delivery, Execution, Headers, Inbound, Notice, StoreContext, Verified
from hub.errors import IngestError
from hub.models import Payment, RefundRequest, RefundRequested
from hub.sandbox.simserver import SimulatorServer
from hub.testing import hmac_base64, inbound
from hub.testing.stores import MemoryStores

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "shopify"
SECRET = "test-app-secret"
SHOP = "fixture-shop.myshopify.com"


def fixture_body(name: str, shop: str = SHOP) -> bytes:
    """A fixture file's bytes, with Shopify's ``{shop}`` placeholder filled in."""
    return (FIXTURES / name).read_text().replace("{shop}.myshopify.com", shop).encode()


def signed(body: bytes, topic: str, shop: str = SHOP, secret: str = SECRET, **extra: str) -> Inbound:
    headers = {
        "X-Shopify-Hmac-Sha256": hmac_base64(secret, body),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-04",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-05-01T10:00:00.000000Z",
        **extra,
    }
    return inbound(body, headers)


def delivery_of(item: Inbound, verified: Verified) -> Delivery:
    return Delivery(
        id=uuid.uuid4().hex,
        connector="shopify",
        store_id=verified.store_id,
        topic=verified.topic,
        headers=item.headers,
        body=item.body,
    )


def notice_of(connector: ShopifyConnector, item: Inbound | SimWebhook) -> Notice:
    """verify + parse, as the hub's web layer and worker do."""
    received = item.as_inbound() if isinstance(item, SimWebhook) else item
    verified = connector.verify(received)
    (notice,) = connector.parse(delivery_of(received, verified))
    return notice


def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def settings() -> dict[str, Any]:
    return {"api_key": "client-id", "api_secret": SECRET, "previous_api_secret": "old-secret"}


@pytest.fixture
def offline_connector(settings: dict[str, Any]) -> ShopifyConnector:
    """A connector for verify/parse only (no API calls)."""
    return ShopifyConnector(settings, MemoryStores("shopify"))


@pytest.fixture(scope="session")
def shared_sim() -> Iterator[ShopifySimulator]:
    """One simulator for the session (a server stop costs half a second); tests use fresh shops."""
    simulator = ShopifySimulator()
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sim(shared_sim: ShopifySimulator) -> Iterator[ShopifySimulator]:
    yield shared_sim
    shared_sim.faults.clear()
    shared_sim.faults.latency = 0.0
    shared_sim.refund_latency = 0.0
    shared_sim.webhook_url = None


@pytest.fixture
def stores() -> MemoryStores:
    return MemoryStores("shopify")


@pytest.fixture
def shop(sim: ShopifySimulator, stores: MemoryStores) -> SimShop:
    created = sim.add_shop(f"demo-{uuid.uuid4().hex[:8]}.myshopify.com")
    stores.add(**sim.store(created))
    return created


@pytest.fixture
def other_shop(sim: ShopifySimulator, stores: MemoryStores) -> SimShop:
    created = sim.add_shop(f"other-{uuid.uuid4().hex[:8]}.myshopify.com")
    stores.add(**sim.store(created))
    return created


@pytest.fixture
def connector(sim: ShopifySimulator, stores: MemoryStores) -> ShopifyConnector:
    return ShopifyConnector(sim.hub_settings(), stores)


@dataclass
class HubStub:
    """The hub's web side in miniature: the connector's install blueprint and a webhook endpoint
    that verifies and keeps what arrives (the real core stores it in the database)."""

    url: str
    connector: ShopifyConnector
    received: list[tuple[Verified, Inbound]] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deliveries(self, topic: str) -> list[tuple[Verified, Inbound]]:
        with self.lock:
            return [(v, i) for v, i in self.received if v.topic == topic]


@pytest.fixture
def hub(sim: ShopifySimulator, stores: MemoryStores) -> Iterator[HubStub]:
    app = Flask("hub-stub")
    holder: dict[str, HubStub] = {}

    @app.post("/webhooks/shopify")
    def webhooks() -> Response:
        stub = holder["hub"]
        item = Inbound(
            headers=Headers(dict(request.headers)), body=request.get_data(), content_type=request.content_type or ""
        )
        try:
            verified = stub.connector.verify(item)
        except IngestError as exc:
            stub.refused.append(exc.status)
            return Response(exc.code, status=exc.status)
        with stub.lock:
            stub.received.append((verified, item))
        return Response("ok", status=200)

    server = SimulatorServer(app)
    connector = ShopifyConnector({**sim.hub_settings(), "app_url": server.url}, stores)
    app.register_blueprint(connector.blueprint())
    holder["hub"] = HubStub(url=server.url, connector=connector)
    sim.webhook_url = f"{server.url}/webhooks/shopify"
    server.start()
    yield holder["hub"]
    server.stop()


def _request(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores, order: SimOrder
) -> RefundRequest:
    sim.request_return(order, reason="DEFECTIVE")
    event = connector.fetch(_store(stores, shop), notice_of(connector, sim.webhooks_for("returns/request", shop)[-1]))
    assert isinstance(event, RefundRequested)
    return event.request


def _store(stores: MemoryStores, shop: SimShop) -> StoreContext:
    store = stores.get(shop.domain)
    assert store is not None
    return store


def _execution(request: RefundRequest, amount: int | None = None, payment: Payment | None = None) -> Execution:
    hub_id = f"rf_{uuid.uuid4().hex[:10]}"
    paid = payment or request.primary_payment
    return Execution(
        hub_refund_id=hub_id,
        idempotency_key=f"hub-{hub_id}",
        payment_reference=paid.reference,
        amount=request.amount if amount is None else amount,
        currency=request.currency,
        order_id=request.order_id,
        note="Return accepted",
        payment_extra=paid.extra,
        lines=request.lines,
        source_ref=request.source_ref,
    )


@pytest.fixture
def order(sim: ShopifySimulator, shop: SimShop) -> SimOrder:
    return sim.add_order(shop, [{"title": "Tee", "price": 2500, "quantity": 2, "tax": 400}, ("Mug", 1200)])
