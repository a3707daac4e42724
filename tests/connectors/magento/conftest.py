"""Shared fixtures for the Magento connector tests: simulators, a store directory, a webhook receiver,
and the signed Adobe pushes the verify and parse tests share."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, request

from connectors.magento import MagentoConnector
from connectors.magento.sim import MagentoSimulator
from connectors.magento.sim.signing import new_key, pooled_keys, public_pem, sign
from hub.contracts import Delivery, Inbound, Notice, PollResult, StoreContext
from hub.errors import IngestError
from hub.sandbox.simserver import SimulatorServer
from hub.testing import inbound
from hub.testing.stores import MemoryStores

FIXTURES = Path(__file__).parents[2] / "fixtures" / "magento"

# Type names in Adobe's event schemas -> sample values, to turn a schema into a payload.
SAMPLES: dict[str, Any] = {
    "int": 7,
    "float": 12.5,
    "string": "sample",
    "mixed": "pending",
    "boolean": False,
    "array": [],
    "string[]": [],
    "object{}": {},
    "object{}[]": [],
}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def sample(schema: Any) -> Any:
    """A payload shaped like an Adobe event type schema, with sample values for the type names."""
    if isinstance(schema, dict):
        return {key: sample(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [sample(value) for value in schema]
    return SAMPLES.get(schema, schema)


def envelope(event_name: str, value: dict[str, Any], *, provider: str, client: str) -> dict[str, Any]:
    """Adobe's documented CloudEvents sample, re-addressed to ``event_name`` and ``value``."""
    event = load("adobe_io_events_cloudevent_envelope_example.json")
    event_id = str(uuid.uuid4())
    event.update(
        type=f"com.adobe.commerce.{event_name}",
        source=f"urn:uuid:{provider}",
        event_id=event_id,
        eventid=event_id,
        recipient_client_id=client,
        recipientclientid=client,
    )
    event["data"]["value"] = value
    return event


def delivery(connector: MagentoConnector, item: Any) -> Delivery:
    verified = connector.verify(item)
    return Delivery(
        id=str(uuid.uuid4()),
        connector="magento",
        store_id=verified.store_id,
        topic=verified.topic,
        headers=item.headers,
        body=item.body,
    )


def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


class Receiver:
    """Stands in for the hub's ``POST /webhooks/magento``: verify the raw bytes, then parse."""

    def __init__(self) -> None:
        self.connector: MagentoConnector | None = None
        self.notices: list[Notice] = []
        self.refused: list[str] = []
        self.lock = threading.Lock()
        app = Flask("receiver")
        app.add_url_rule("/webhooks/magento", "receive", self.receive, methods=["POST"])
        self.server = SimulatorServer(app)

    @property
    def url(self) -> str:
        return f"{self.server.url}/webhooks/magento"

    def receive(self) -> Any:
        assert self.connector is not None
        item = inbound(request.get_data(), dict(request.headers), content_type=request.content_type or "")
        try:
            notices = self.connector.parse(delivery(self.connector, item))
        except IngestError as exc:
            with self.lock:
                self.refused.append(exc.code)
            return {"error": exc.code}, exc.status
        with self.lock:
            self.notices.extend(notices)
        return {"ok": True}

    def wait(self, source_ref: str | None = None, count: int = 1) -> list[Notice]:
        """The notices received so far once ``count`` of them (about ``source_ref``, if given) arrived."""

        def ready() -> list[Notice] | None:
            with self.lock:
                found = [n for n in self.notices if source_ref is None or n.source_ref == source_ref]
            return found if len(found) >= count else None

        return wait_for(ready)


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    receiving = Receiver()
    receiving.server.start()
    yield receiving
    receiving.server.stop()


def start(edition: str, receiver: Receiver | None = None, **options: Any) -> MagentoSimulator:
    simulator = MagentoSimulator(webhook_url=receiver.url if receiver else None, edition=edition, **options)
    simulator.start()
    return simulator


@pytest.fixture(scope="module")
def sim(receiver: Receiver) -> Iterator[MagentoSimulator]:
    simulator = start("commerce", receiver)
    yield simulator
    simulator.stop()


@pytest.fixture
def open_sim() -> Iterator[MagentoSimulator]:
    simulator = start("open_source")
    yield simulator
    simulator.stop()


def connect(
    simulator: MagentoSimulator, receiver: Receiver | None = None, **store_settings: Any
) -> tuple[MagentoConnector, StoreContext]:
    stores = MemoryStores("magento")
    seeded = simulator.store()
    store = stores.add(
        seeded["id"], settings={**seeded["settings"], **store_settings}, credentials=seeded["credentials"]
    )
    connector = MagentoConnector(simulator.hub_settings(), stores)
    if receiver is not None:
        receiver.connector = connector
    return connector, store


@pytest.fixture
def wired(sim: MagentoSimulator, receiver: Receiver) -> Iterator[tuple[MagentoConnector, StoreContext]]:
    """A connector for the module's Adobe Commerce simulator, with the receiver verifying for it."""
    with receiver.lock:
        receiver.notices.clear()
        receiver.refused.clear()
    yield connect(sim, receiver)
    sim.faults.clear()


def poll(connector: MagentoConnector, store: StoreContext, cursor: str | None) -> PollResult:
    """Every page of one poll as one result: all the notices, and the cursor after the last page."""
    pages = list(connector.poll(store, cursor))
    return PollResult(notices=[n for page in pages for n in page.notices], cursor=pages[-1].cursor if pages else cursor)


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above, for test modules (``--import-mode=importlib`` cannot import conftest)."""
    return SimpleNamespace(
        load=load,
        sample=sample,
        envelope=envelope,
        delivery=delivery,
        wait_for=wait_for,
        connect=connect,
        start=start,
        poll=poll,
    )


# The official envelope sample's own provider and registration ids.
PROVIDER = "fb58963f-d2e7-4ab4-83da-b6ff15b8ebc0"


CLIENT = "ca7b36f23be94dcb9d2ebb97f0276e3f"


STORE = "shop.example.com"


CREDITMEMO = "observer.sales_order_creditmemo_save_after"


@pytest.fixture(scope="module")
def keys() -> SimpleNamespace:
    io1, io2, hook = pooled_keys(3)
    return SimpleNamespace(io1=io1, io2=io2, hook=hook, stranger=new_key())


def io_delivery(keys: SimpleNamespace, event: dict[str, Any], *, first: Any = None, second: Any = None) -> Inbound:
    body = json.dumps(event).encode()
    headers = {
        "x-adobe-digital-signature-1": sign(first or keys.io1, body),
        "x-adobe-digital-signature-2": sign(second or keys.io2, body),
        "x-adobe-public-key1-path": "/prod/keys/pub-key-1.pem",
        "x-adobe-public-key2-path": "/prod/keys/pub-key-2.pem",
    }
    return inbound(body, headers)


def make_connector(keys: SimpleNamespace, **store_settings: Any) -> MagentoConnector:
    stores = MemoryStores("magento")
    stores.add(
        STORE,
        settings={
            "base_url": f"https://{STORE}",
            "io_events_provider_id": PROVIDER,
            "io_events_client_id": CLIENT,
            "webhook_public_keys": [public_pem(keys.hook)],
            "refund_request_status": "refund_requested",
            **store_settings,
        },
    )
    # the pasted keys only: the tests reach nothing but 127.0.0.1
    settings = {"io_events_public_keys": [public_pem(keys.io1), public_pem(keys.io2)], "io_events_fetch_keys": False}
    return MagentoConnector(settings, stores)


def samples(kit: Any) -> dict[str, dict[str, Any]]:
    return {
        CREDITMEMO: kit.sample(kit.load("adobe_io_events_schema_observer.sales_order_creditmemo_save_after.json")),
        "observer.rma_save_after": kit.sample(kit.load("adobe_io_events_schema_observer.rma_save_after.json")),
        "observer.sales_order_save_after": kit.sample(
            kit.load("adobe_io_events_schema_observer.sales_order_save_after.json")
        ),
    }
