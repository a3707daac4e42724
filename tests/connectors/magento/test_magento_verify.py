"""Adobe's pushes through verify (and parse): the official fixtures, both signature schemes, tampering, key fetching."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest

from connectors.magento import MagentoConnector
from connectors.magento.sim.signing import public_pem, sign
from connectors.magento.verify import ADOBE_KEY_HOST, event_topic, fetcher_for
from hub.contracts import Inbound
from hub.errors import MalformedBody, SignatureInvalid
from hub.testing import inbound
from hub.testing.contract import ConnectorContract
from hub.testing.stores import MemoryStores

from .conftest import CLIENT, CREDITMEMO, PROVIDER, STORE, io_delivery, make_connector, samples


def webhook_delivery(key: Any, payload: dict[str, Any], store: str = STORE) -> Inbound:
    body = json.dumps(payload).encode()
    return inbound(
        body, {"x-adobe-commerce-webhook-signature": sign(key, base64.b64encode(body)), "x-refund-hub-store": store}
    )


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
