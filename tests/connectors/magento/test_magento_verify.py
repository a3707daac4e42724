"""Adobe's pushes through verify (and parse): the official fixtures, both signature schemes, tampering, key fetching."""

from __future__ import annotations

import base64
import json
import random
from types import SimpleNamespace
from typing import Any

import pytest
from flask import request

from connectors.magento import MagentoConnector, index
from connectors.magento.keys import ADOBE_KEY_HOST, KeyFetcher, fetcher_for
from connectors.magento.sim.signing import public_pem, sign
from connectors.magento.verify import event_topic
from hub.contracts import Delivery, Headers, Inbound, StoreContext
from hub.errors import MalformedBody, ParseError, SignatureInvalid
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


def seeded_stores(sim: Any) -> MemoryStores:
    """A directory holding the simulator's store, without credentials."""
    stores = MemoryStores("magento")
    seeded = sim.store()
    stores.add(seeded["id"], settings=seeded["settings"])
    return stores


def test_io_keys_fetched_from_the_allowed_host(kit: Any) -> None:
    sim = kit.start("commerce")
    try:
        stores = seeded_stores(sim)
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
    # Adobe's keys are fetched unless told not to (pasted ones go stale when Adobe rotates them)
    by_default = fetcher_for({})
    assert by_default is not None and by_default.base_url == ADOBE_KEY_HOST
    assert fetcher_for({"io_events_fetch_keys": False}) is None


# -- the store of an I/O event is found by key: one store read (and decrypted), not all ----------------


class CountingStores(MemoryStores):
    """Counts the stores handed out: the hub's directory decrypts the credentials of each."""

    def __init__(self) -> None:
        super().__init__("magento")
        self.opened = 0
        self.listed = 0

    def get(self, store_id: str) -> StoreContext | None:
        found = super().get(store_id)
        self.opened += found is not None
        return found

    def all(self) -> list[StoreContext]:
        found = super().all()
        self.opened += len(found)
        self.listed += 1
        return found


def test_an_io_event_reads_only_its_own_store(keys: SimpleNamespace, kit: Any) -> None:
    stores = CountingStores()
    for n in range(302):
        stores.add(
            f"shop-{n}.example.com",
            settings={"io_events_provider_id": f"provider-{n}", "io_events_client_id": f"client-{n}"},
            credentials={"consumer_secret": f"secret-{n}"},
        )
    settings = {"io_events_public_keys": [public_pem(keys.io1)], "io_events_fetch_keys": False}
    connector = MagentoConnector(settings, stores)

    def event(n: int) -> Inbound:
        return io_delivery(
            keys, kit.envelope(CREDITMEMO, {"entity_id": 1}, provider=f"provider-{n}", client=f"client-{n}")
        )

    assert connector.verify(event(150)).store_id == "shop-150.example.com"  # the first one builds the index
    stores.opened = 0
    for n in (7, 150, 301):
        assert connector.verify(event(n)).store_id == f"shop-{n}.example.com"
    assert stores.opened == 3  # one store each, never every store

    # events for nobody cannot make each request read every store: one rebuild a minute at most
    stores.opened, stores.listed = 0, 0
    for _ in range(5):
        with pytest.raises(MalformedBody):
            connector.verify(event(999))
    assert stores.listed <= 1 and stores.opened <= 302

    # a store configured later is found (the index is rebuilt once the minute is over)
    stores.add("late.example.com", settings={"io_events_provider_id": "provider-late"})
    stores.set_state(index.NAMESPACE, index.REBUILT, None)
    late = io_delivery(keys, kit.envelope(CREDITMEMO, {"entity_id": 1}, provider="provider-late", client="x"))
    assert connector.verify(late).store_id == "late.example.com"


def test_an_activation_indexes_the_store(keys: SimpleNamespace, kit: Any) -> None:
    stores = CountingStores()
    saved = stores.save("shop.example.com", settings={"io_events_provider_id": PROVIDER}, credentials={})
    index.note(stores, saved)
    connector = MagentoConnector(
        {"io_events_public_keys": [public_pem(keys.io1)], "io_events_fetch_keys": False}, stores
    )
    event = kit.envelope(CREDITMEMO, {"entity_id": 1}, provider=PROVIDER, client=CLIENT)
    assert connector.verify(io_delivery(keys, event)).store_id == "shop.example.com"
    assert stores.listed == 0  # found by its index entry alone


def test_the_connectors_registration_is_checked_where_the_store_names_none(keys: SimpleNamespace, kit: Any) -> None:
    connector = make_connector(keys, io_events_client_id=None)
    connector.settings = {**connector.settings, "io_events_client_id": CLIENT}
    ours = kit.envelope(CREDITMEMO, {"entity_id": 1}, provider=PROVIDER, client=CLIENT)
    assert connector.verify(io_delivery(keys, ours)).store_id == STORE
    theirs = kit.envelope(CREDITMEMO, {"entity_id": 1}, provider=PROVIDER, client="another-project")
    with pytest.raises(SignatureInvalid):
        connector.verify(io_delivery(keys, theirs))


def test_adobes_keys_are_fetched_by_default_and_cached(kit: Any) -> None:
    sim = kit.start("commerce")
    try:
        stores = seeded_stores(sim)
        fetched: list[str] = []
        sim.app.before_request(lambda: fetched.append(request.path) if "/keys/" in request.path else None)
        # nothing pasted, fetching not even named: the keys come from the (simulated) Adobe host
        connector = MagentoConnector({"test_mode": True, "io_events_key_host": sim.url}, stores)
        for _ in range(3):
            body = json.dumps(sim.events.cloudevent(CREDITMEMO, {"entity_id": 1, "order_id": 1})).encode()
            assert connector.verify(inbound(body, sim.events.io_headers(body))).store_id == sim.store_id
        assert len(fetched) <= 2  # each key once, then from the cache
    finally:
        sim.stop()


def test_forged_key_paths_cannot_make_every_request_fetch(kit: Any) -> None:
    sim = kit.start("commerce")
    try:
        fetched: list[str] = []
        sim.app.before_request(lambda: fetched.append(request.path) if "/keys/" in request.path else None)
        fetcher = KeyFetcher(sim.url, max_misses=5)
        for n in range(20):
            headers = inbound(b"{}", {"x-adobe-public-key1-path": f"/prod/keys/pub-key-{n:04d}.pem"}).headers
            assert fetcher.keys(headers) == []
        assert len(fetched) == 5  # unknown paths a minute are limited; misses are remembered
        assert fetcher.keys(inbound(b"{}", {"x-adobe-public-key1-path": "/prod/keys/pub-key-0000.pem"}).headers) == []
        assert len(fetched) == 5
    finally:
        sim.stop()


# -- hostile bodies, signed or not, end as SignatureInvalid / MalformedBody / ParseError, never a 5xx -----

PLACEHOLDER = "__hostile__"
HOSTILE: dict[str, str] = {
    "deep list": "[" * 20000 + "]" * 20000,
    "deep object": '{"a":' * 5000 + "1" + "}" * 5000,
    "nested past the limit": "[" * 100 + "]" * 100,
    "5000-digit integer": "9" * 5000,
    "lone surrogate": '"\\ud800"',
    "lone surrogate key": '{"\\udfff": 1}',
    "surrogate in a list": '["ok", "\\udc00"]',
    "list": "[1, 2, 3]",
    "list of objects": '[{"entity_id": 1, "status": "pending"}]',
    "object": '{"entity_id": {"$ne": 1}}',
    "null": "null",
    "true": "true",
    "float": "1.5",
    "infinite float": "1e999",
    "NaN": "NaN",
    "negative": "-7",
    "empty text": '""',
    "long text": '"' + "x" * 100000 + '"',
}
WHOLE_BODIES: dict[str, bytes] = {
    "not UTF-8": b'{"specversion": "1.0", "id": "\xff\xfe"}',
    "truncated": b'{"specversion": "1.0", "data": {"value": {"entity_id": 1',
    "empty": b"",
    "BOM": b'\xef\xbb\xbf{"a": 1}',
}


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys, list indexes), shallowest first."""
    found: list[tuple[Any, ...]] = []
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def replaced(payload: Any, path: tuple[Any, ...]) -> Any:
    """``payload`` with the value at ``path`` replaced by the placeholder."""
    copy = json.loads(json.dumps(payload))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = PLACEHOLDER
    return copy


def hostile_bodies(
    payload: dict[str, Any], important: list[tuple[Any, ...]], rng: random.Random
) -> list[tuple[str, bytes]]:
    every = paths(payload)
    chosen = [p for p in important if p in every] + rng.sample(every, min(len(every), 12))
    bodies = [(f"whole body: {name}", raw.encode()) for name, raw in HOSTILE.items()]
    bodies += [(f"whole body: {name}", raw) for name, raw in WHOLE_BODIES.items()]
    for path in dict.fromkeys(chosen):
        text = json.dumps(replaced(payload, path))
        for name, raw in HOSTILE.items():
            bodies.append((f"{'.'.join(map(str, path))} = {name}", text.replace(f'"{PLACEHOLDER}"', raw).encode()))
    return bodies


def io_payloads(kit: Any) -> list[dict[str, Any]]:
    values = samples(kit)
    values["observer.sales_order_save_after"]["status"] = "refund_requested"
    official = kit.load("adobe_io_events_cloudevent_envelope_example.json")
    return [official] + [kit.envelope(name, value, provider=PROVIDER, client=CLIENT) for name, value in values.items()]


IO_FIELDS = [("source",), ("type",), ("event_id",), ("eventid",), ("id",), ("recipient_client_id",), ("data",)]
IO_FIELDS += [("data", "value"), *[("data", "value", f) for f in ("entity_id", "increment_id", "order_id", "status")]]
IO_FIELDS += [("data", "value", "items"), ("data", "value", "items", 0), ("data", "value", "status_histories")]
HOOK_FIELDS = [("eventName",), ("data",), *[("data", k) for k in ("creditmemo", "rma", "order")]]


def check(connector: MagentoConnector, kit: Any, label: str, item: Inbound, *, authentic: bool) -> str | None:
    """What went wrong with one delivery, if anything: verify may only refuse, parse only fail to read."""
    try:
        connector.verify(item)
    except SignatureInvalid:
        return None
    except MalformedBody:
        return None if authentic else f"{label}: MalformedBody for a delivery nobody signed"
    except Exception as exc:  # noqa: BLE001 - that is what is looked for
        return f"{label}: verify raised {type(exc).__name__}: {str(exc)[:80]}"
    if not authentic:
        return f"{label}: an unsigned delivery verified"
    try:
        notices = connector.parse(kit.delivery(connector, item))
    except ParseError:
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{label}: parse raised {type(exc).__name__}: {str(exc)[:80]}"
    for notice in notices:
        for text in (notice.order_id, notice.source_ref, *map(str, notice.hints.values())):
            if text is not None and (not isinstance(text, str) or "\ud800" <= max(text, default="a") <= "\udfff"):
                return f"{label}: notice carries {text!r}"
    return None


def test_hostile_io_events_never_raise_anything_else(keys: SimpleNamespace, kit: Any) -> None:
    connector, rng = make_connector(keys), random.Random(20240607)
    problems = []
    for payload in io_payloads(kit):
        for label, body in hostile_bodies(payload, IO_FIELDS, rng):
            signed = inbound(body, {"x-adobe-digital-signature-1": sign(keys.io1, body)})
            problems.append(check(connector, kit, label, signed, authentic=True))
        for label, body in hostile_bodies(payload, IO_FIELDS, rng)[::7]:  # unauthenticated: refused, as 401
            forged = inbound(body, {"x-adobe-digital-signature-1": sign(keys.stranger, body)})
            problems.append(check(connector, kit, label, forged, authentic=False))
    assert [p for p in problems if p] == []


def test_hostile_commerce_webhooks_never_raise_anything_else(keys: SimpleNamespace, kit: Any) -> None:
    connector, rng = make_connector(keys), random.Random(20240608)
    problems = []
    for name, value in samples(kit).items():
        entity = {"creditmemo": "creditmemo", "rma": "rma"}.get(name.split(".")[1].split("_")[0], "order")
        payload = {"eventName": name, "data": {entity: value}}
        for label, body in hostile_bodies(payload, HOOK_FIELDS, rng):
            signed = webhook_inbound(keys.hook, body)
            problems.append(check(connector, kit, label, signed, authentic=True))
            topic = {**signed.headers, "x-refund-hub-topic": name}
            problems.append(check(connector, kit, f"{label} (topic header)", inbound(body, topic), authentic=True))
        for label, body in hostile_bodies(payload, HOOK_FIELDS, rng)[::7]:
            problems.append(check(connector, kit, label, webhook_inbound(keys.stranger, body), authentic=False))
    assert [p for p in problems if p] == []


def test_hostile_stored_deliveries_are_parse_errors(keys: SimpleNamespace, kit: Any) -> None:
    # parse reads stored deliveries too, whatever verify once let through
    connector, rng = make_connector(keys), random.Random(20240609)
    problems = []
    for payload in io_payloads(kit):
        for label, body in hostile_bodies(payload, IO_FIELDS, rng):
            for topic in (CREDITMEMO, "observer.rma_save_after", "observer.sales_order_save_after"):
                stored = Delivery(
                    id="d", connector="magento", store_id=STORE, topic=topic, headers=Headers(), body=body
                )
                try:
                    connector.parse(stored)
                except ParseError:
                    pass
                except Exception as exc:  # noqa: BLE001
                    problems.append(f"{label} ({topic}): {type(exc).__name__}: {str(exc)[:80]}")
    assert problems == []


def webhook_inbound(key: Any, body: bytes) -> Inbound:
    return inbound(
        body, {"x-adobe-commerce-webhook-signature": sign(key, base64.b64encode(body)), "x-refund-hub-store": STORE}
    )
