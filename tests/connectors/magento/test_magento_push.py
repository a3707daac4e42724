"""Adobe's pushes through verify and parse: the official fixtures, both signature schemes, tampering."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest

from connectors.magento import MagentoConnector
from connectors.magento.sim.signing import new_key, pooled_keys, public_pem, sign
from connectors.magento.verify import ADOBE_KEY_HOST, event_topic, fetcher_for
from hub.contracts import Inbound
from hub.errors import MalformedBody, SignatureInvalid
from hub.testing import inbound
from hub.testing.contract import ConnectorContract
from hub.testing.stores import MemoryStores

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


def webhook_delivery(key: Any, payload: dict[str, Any], store: str = STORE) -> Inbound:
    body = json.dumps(payload).encode()
    return inbound(
        body, {"x-adobe-commerce-webhook-signature": sign(key, base64.b64encode(body)), "x-refund-hub-store": store}
    )


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
    return MagentoConnector({"io_events_public_keys": [public_pem(keys.io1), public_pem(keys.io2)]}, stores)


def samples(kit: Any) -> dict[str, dict[str, Any]]:
    return {
        CREDITMEMO: kit.sample(kit.load("adobe_io_events_schema_observer.sales_order_creditmemo_save_after.json")),
        "observer.rma_save_after": kit.sample(kit.load("adobe_io_events_schema_observer.rma_save_after.json")),
        "observer.sales_order_save_after": kit.sample(
            kit.load("adobe_io_events_schema_observer.sales_order_save_after.json")
        ),
    }


class TestMagentoContract(ConnectorContract):
    @pytest.fixture
    def connector(self, keys: SimpleNamespace) -> MagentoConnector:
        return make_connector(keys)

    @pytest.fixture
    def authentic(self, keys: SimpleNamespace, kit: Any) -> list[Inbound]:
        official = kit.load("adobe_io_events_cloudevent_envelope_example.json")
        events = [io_delivery(keys, official)]
        events += [
            io_delivery(keys, kit.envelope(name, value, provider=PROVIDER, client=CLIENT))
            for name, value in samples(kit).items()
        ]
        memo = samples(kit)[CREDITMEMO]
        events.append(webhook_delivery(keys.hook, {"eventName": CREDITMEMO, "data": {"creditmemo": memo}}))
        return events

    @pytest.fixture
    def tampered(self, keys: SimpleNamespace, kit: Any) -> list[Inbound]:
        official = kit.load("adobe_io_events_cloudevent_envelope_example.json")
        signed = io_delivery(keys, official)
        forged = io_delivery(keys, official, first=keys.stranger, second=keys.stranger)
        hook = webhook_delivery(keys.hook, {"eventName": CREDITMEMO, "data": {"creditmemo": {"entity_id": 1}}})
        raw_signed = inbound(
            hook.body, {"x-adobe-commerce-webhook-signature": sign(keys.hook, hook.body), "x-refund-hub-store": STORE}
        )
        return [
            Inbound(headers=signed.headers, body=signed.body.replace(b"eventtest1", b"eventtest2")),
            forged,
            Inbound(headers=hook.headers, body=hook.body.replace(b'"entity_id": 1', b'"entity_id": 2')),
            raw_signed,  # signed over the raw body, not the base64 of it
            inbound(json.dumps(official).encode(), {}),  # no signature at all
        ]


def test_either_io_signature_suffices(keys: SimpleNamespace, kit: Any) -> None:
    connector = make_connector(keys)
    event = kit.load("adobe_io_events_cloudevent_envelope_example.json")
    assert connector.verify(io_delivery(keys, event, first=keys.stranger)).store_id == STORE
    assert connector.verify(io_delivery(keys, event, second=keys.stranger)).store_id == STORE
    only_second = io_delivery(keys, event)
    headers = {k: v for k, v in only_second.headers.items() if k != "x-adobe-digital-signature-1"}
    assert connector.verify(inbound(only_second.body, headers)).store_id == STORE


def test_io_event_identity(keys: SimpleNamespace, kit: Any) -> None:
    event = kit.load("adobe_io_events_cloudevent_envelope_example.json")
    verified = make_connector(keys).verify(io_delivery(keys, event))
    assert verified.dedupe_key == f"io:{event['event_id']}"
    assert verified.topic == "observer.catalog_product_save_commit_after"
    assert event_topic("com.adobe.commerce.observer.rma_save_after") == "observer.rma_save_after"


def test_recipient_must_be_the_stores_registration(keys: SimpleNamespace, kit: Any) -> None:
    event = kit.envelope(CREDITMEMO, {"entity_id": 1}, provider=PROVIDER, client="someone-else")
    with pytest.raises(SignatureInvalid):
        make_connector(keys).verify(io_delivery(keys, event))


def test_unknown_provider_has_no_store(keys: SimpleNamespace, kit: Any) -> None:
    event = kit.envelope(CREDITMEMO, {"entity_id": 1}, provider="other-instance", client="other-client")
    with pytest.raises(MalformedBody):
        make_connector(keys).verify(io_delivery(keys, event))


def test_a_stores_own_key_only_vouches_for_that_store(keys: SimpleNamespace, kit: Any) -> None:
    connector = make_connector(keys)
    stores: MemoryStores = connector.stores  # type: ignore[assignment]
    stores.add(
        "other.example.com",
        settings={
            "io_events_provider_id": "other-instance",
            "io_events_public_keys": public_pem(keys.stranger),
        },
    )
    theirs = kit.envelope(CREDITMEMO, {"entity_id": 1}, provider="other-instance", client="x")
    ours = kit.envelope(CREDITMEMO, {"entity_id": 1}, provider=PROVIDER, client=CLIENT)
    assert connector.verify(io_delivery(keys, theirs, first=keys.stranger, second=keys.stranger)).store_id == (
        "other.example.com"
    )
    with pytest.raises(SignatureInvalid):
        connector.verify(io_delivery(keys, ours, first=keys.stranger, second=keys.stranger))


def test_parse_each_event_fixture(keys: SimpleNamespace, kit: Any) -> None:
    connector = make_connector(keys)
    values = samples(kit)
    values["observer.sales_order_save_after"]["status"] = "refund_requested"
    kinds = {}
    for name, value in values.items():
        item = io_delivery(keys, kit.envelope(name, value, provider=PROVIDER, client=CLIENT))
        (notice,) = connector.parse(kit.delivery(connector, item))
        kinds[name] = (notice.kind, notice.source_ref, notice.hints.get("entity"))
    assert kinds == {
        CREDITMEMO: ("recorded", "creditmemo:sample", "creditmemo"),  # the schema has no entity_id
        "observer.rma_save_after": ("requested", "rma:7", "rma"),
        "observer.sales_order_save_after": ("requested", "order:sample:status:refund_requested", "order"),
    }
    product = io_delivery(keys, kit.load("adobe_io_events_cloudevent_envelope_example.json"))
    assert [n.kind for n in connector.parse(kit.delivery(connector, product))] == ["ignored"]


def test_closed_rma_and_unmarked_order_are_ignored(keys: SimpleNamespace, kit: Any) -> None:
    connector = make_connector(keys)
    for name, value in (
        ("observer.rma_save_after", {"entity_id": 3, "order_id": 2, "status": "closed"}),
        ("observer.sales_order_save_after", {"entity_id": 2, "status": "complete"}),
    ):
        item = io_delivery(keys, kit.envelope(name, value, provider=PROVIDER, client=CLIENT))
        assert [n.kind for n in connector.parse(kit.delivery(connector, item))] == ["ignored"]


def test_commerce_webhook(keys: SimpleNamespace, kit: Any) -> None:
    connector = make_connector(keys)
    payload = {
        "eventName": "observer.rma_save_after",
        "data": {"rma": {"entity_id": 5, "order_id": 4, "status": "authorized"}},
    }
    item = webhook_delivery(keys.hook, payload)
    verified = connector.verify(item)
    assert (verified.store_id, verified.topic) == (STORE, "observer.rma_save_after")
    assert verified.dedupe_key == connector.verify(webhook_delivery(keys.hook, payload)).dedupe_key
    (notice,) = connector.parse(kit.delivery(connector, item))
    assert (notice.kind, notice.order_id, notice.source_ref) == ("requested", "4", "rma:5")
    with pytest.raises(SignatureInvalid):
        connector.verify(webhook_delivery(keys.hook, payload, store="unknown.example.com"))


def test_commerce_webhook_key_rotation(keys: SimpleNamespace) -> None:
    connector = make_connector(keys, webhook_public_keys=[public_pem(keys.stranger), public_pem(keys.hook)])
    payload = {"eventName": CREDITMEMO, "data": {"creditmemo": {"entity_id": 9, "order_id": 4}}}
    for key in (keys.hook, keys.stranger):
        assert connector.verify(webhook_delivery(key, payload)).store_id == STORE


def test_io_keys_fetched_from_the_allowed_host(kit: Any) -> None:
    sim = kit.start("commerce")
    try:
        stores = MemoryStores("magento")
        seeded = sim.store()
        stores.add(seeded["id"], settings=seeded["settings"])
        settings = {"test_mode": True, "io_events_fetch_keys": True, "io_events_key_host": sim.url}
        connector = MagentoConnector(settings, stores)
        body = json.dumps(sim.events.cloudevent(CREDITMEMO, {"entity_id": 1, "order_id": 1})).encode()
        assert connector.verify(inbound(body, sim.events.io_headers(body))).store_id == sim.store_id
        bad_paths = {
            **sim.events.io_headers(body),
            "x-adobe-public-key1-path": "/../x.pem",
            "x-adobe-public-key2-path": "//evil.example.com/k.pem",
        }
        with pytest.raises(SignatureInvalid):
            MagentoConnector(settings, stores).verify(inbound(body, bad_paths))
    finally:
        sim.stop()
    outside_test_mode = fetcher_for({"io_events_fetch_keys": True, "io_events_key_host": "http://127.0.0.1:1"})
    assert outside_test_mode is not None and outside_test_mode.base_url == ADOBE_KEY_HOST
    assert fetcher_for({}) is None
