"""Adobe I/O Events keys fetched from Adobe's host, cached, and followed through a rotation.

A fake ``static.adobeioevents.com`` on 127.0.0.1 serves PEMs by path, as Adobe does (no
internet: the host is reachable only in test mode); nothing is pasted in the hub's settings, so
the fetched keys are the only ones that can vouch for a delivery. ``recipient_client_id`` must be
the integration's when one is configured.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask, Response, redirect

from connectors.magento import MagentoConnector
from connectors.magento import keys as adobe_keys
from connectors.magento.keys import ADOBE_KEY_HOST, KeyFetcher, fetcher_for
from connectors.magento.sim.signing import new_key, public_pem, sign
from hub.contracts import Inbound
from hub.errors import SignatureInvalid
from hub.sandbox.simserver import SimulatorServer
from hub.testing import inbound
from hub.testing.stores import MemoryStores

from .conftest import CLIENT, CREDITMEMO, PROVIDER, STORE


@dataclass
class KeyHost:
    """Adobe's key host: ``GET /prod/keys/pub-key-<id>.pem`` answers the PEM, a 404 otherwise."""

    url: str = ""
    pems: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def publish(self, key: Any) -> str:
        path = f"/prod/keys/pub-key-{uuid.uuid4()}.pem"
        self.pems[path] = public_pem(key)
        return path


@pytest.fixture(scope="module")
def host() -> Iterator[KeyHost]:
    found = KeyHost()
    app = Flask("adobe-key-host")

    @app.get("/prod/keys/<name>")
    def _key(name: str) -> Any:
        path = f"/prod/keys/{name}"
        found.asked.append(path)
        if name.startswith("pub-key-redirect"):
            return redirect("http://127.0.0.1:1/elsewhere.pem")
        if path not in found.pems:
            return Response("not found", status=404)
        return Response(found.pems[path], mimetype="application/x-pem-file")

    server = SimulatorServer(app)
    server.start()
    found.url = server.url
    yield found
    server.stop()


@pytest.fixture(scope="module")
def rsa_keys() -> SimpleNamespace:
    return SimpleNamespace(a=new_key(), b=new_key(), c=new_key())


def connector(host: KeyHost, **store_settings: Any) -> MagentoConnector:
    """Nothing pasted anywhere: only Adobe's (fake) host can vouch (``fresh_fetchers`` keeps one
    test's cache out of the next)."""
    stores = MemoryStores("magento")
    stores.add(STORE, settings={"io_events_provider_id": PROVIDER, "io_events_client_id": CLIENT, **store_settings})
    return MagentoConnector({"test_mode": True, "io_events_key_host": host.url}, stores)


def delivery(signers: list[tuple[Any, str]], client: str | None = CLIENT, event_id: str | None = None) -> Inbound:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "type": f"com.adobe.commerce.{CREDITMEMO}",
        "source": f"urn:uuid:{PROVIDER}",
        "id": event_id or str(uuid.uuid4()),
        "event_id": event_id or str(uuid.uuid4()),
        "data": {"value": {"entity_id": 1, "order_id": 1}},
    }
    if client is not None:
        event["recipient_client_id"] = client
    body = json.dumps(event).encode()
    headers: dict[str, str] = {}
    for n, (key, path) in enumerate(signers, start=1):
        headers[f"x-adobe-digital-signature-{n}"] = sign(key, body)
        headers[f"x-adobe-public-key{n}-path"] = path
    return inbound(body, headers)


@pytest.fixture(autouse=True)
def fresh_fetchers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adobe_keys, "_FETCHERS", {})


def test_keys_come_from_adobes_host_by_default_and_are_cached(host: KeyHost, rsa_keys: SimpleNamespace) -> None:
    one, two = host.publish(rsa_keys.a), host.publish(rsa_keys.b)
    hub = connector(host)
    asked = len(host.asked)
    for _ in range(3):
        assert hub.verify(delivery([(rsa_keys.a, one), (rsa_keys.b, two)])).store_id == STORE
    assert host.asked[asked:] == [one, two]  # each key once, then from the cache


def test_a_rotation_is_followed_without_touching_the_configuration(host: KeyHost, rsa_keys: SimpleNamespace) -> None:
    old, kept = host.publish(rsa_keys.a), host.publish(rsa_keys.b)
    hub = connector(host)
    assert hub.verify(delivery([(rsa_keys.a, old), (rsa_keys.b, kept)])).store_id == STORE
    # Adobe rotates key 1: a new pair at a new path; the old key is retired from its host
    new = host.publish(rsa_keys.c)
    del host.pems[old]
    assert hub.verify(delivery([(rsa_keys.c, new), (rsa_keys.b, kept)])).store_id == STORE
    # mid-rotation one valid signature suffices, whichever slot it is in
    assert hub.verify(delivery([(new_key(), old), (rsa_keys.c, new)])).store_id == STORE
    # a delivery signed only by keys the host does not serve is refused
    with pytest.raises(SignatureInvalid):
        hub.verify(delivery([(rsa_keys.a, f"/prod/keys/pub-key-{uuid.uuid4()}.pem"), (new_key(), kept)]))


def test_a_key_replaced_at_the_same_path_is_fetched_again(host: KeyHost, rsa_keys: SimpleNamespace) -> None:
    path = host.publish(rsa_keys.a)
    fetcher = KeyFetcher(host.url, refresh_after=0.0)
    assert fetcher.keys(inbound(b"{}", {"x-adobe-public-key1-path": path}).headers) == [public_pem(rsa_keys.a).strip()]
    host.pems[path] = public_pem(rsa_keys.b)
    headers = inbound(b"{}", {"x-adobe-public-key1-path": path}).headers
    assert fetcher.keys(headers) == [public_pem(rsa_keys.a).strip()]  # cached: no request
    time.sleep(0.01)
    assert fetcher.keys(headers, refresh=True) == [public_pem(rsa_keys.b).strip()]  # verification failed: asked again


def test_the_connector_asks_again_when_the_cached_key_no_longer_verifies(
    host: KeyHost, rsa_keys: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = host.publish(rsa_keys.a)
    fetcher = KeyFetcher(host.url, refresh_after=0.0)
    monkeypatch.setattr(adobe_keys, "_FETCHERS", {host.url: fetcher})
    hub = connector(host)
    assert hub.verify(delivery([(rsa_keys.a, path)])).store_id == STORE
    host.pems[path] = public_pem(rsa_keys.b)  # replaced in place
    time.sleep(0.01)
    assert hub.verify(delivery([(rsa_keys.b, path)])).store_id == STORE


def test_a_redirect_or_a_broken_answer_gives_no_key(host: KeyHost, rsa_keys: SimpleNamespace) -> None:
    fetcher = KeyFetcher(host.url)
    redirected = inbound(b"{}", {"x-adobe-public-key1-path": "/prod/keys/pub-key-redirect.pem"}).headers
    assert fetcher.keys(redirected) == []
    junk = f"/prod/keys/pub-key-{uuid.uuid4()}.pem"
    host.pems[junk] = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"
    assert fetcher.keys(inbound(b"{}", {"x-adobe-public-key1-path": junk}).headers) == []
    hub = connector(host)
    with pytest.raises(SignatureInvalid):
        hub.verify(delivery([(rsa_keys.a, junk)]))


def test_recipient_client_id_is_required_when_the_integration_has_one(host: KeyHost, rsa_keys: SimpleNamespace) -> None:
    path = host.publish(rsa_keys.a)
    hub = connector(host)
    with pytest.raises(SignatureInvalid):
        hub.verify(delivery([(rsa_keys.a, path)], client=None))  # authentic, but for no registration
    with pytest.raises(SignatureInvalid):
        hub.verify(delivery([(rsa_keys.a, path)], client="another-project"))
    assert hub.verify(delivery([(rsa_keys.a, path)])).store_id == STORE


def test_only_adobes_host_outside_test_mode() -> None:
    assert fetcher_for({"io_events_key_host": "http://127.0.0.1:1"}).base_url == ADOBE_KEY_HOST  # type: ignore[union-attr]
    assert fetcher_for({"test_mode": True, "io_events_fetch_keys": False}) is None
